//! The audio library on the operator's page (placeholder until built).

use super::Ctx;
use crate::daemon::Live;
use crate::views::Reading;
use maud::{html, Markup};

pub(super) fn section(_r: &Reading, _live: &Live, c: &Ctx<'_>) -> Markup {
    html! { section #library { h2 { (c.lang.pick("音频库", "Audio library")) } } }
}
