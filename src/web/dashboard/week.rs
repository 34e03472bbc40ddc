//! The week's plan on the operator's page (placeholder until built).

use super::Ctx;
use crate::views::Reading;
use maud::{html, Markup};

pub(super) fn section(_r: &Reading, c: &Ctx<'_>) -> Markup {
    html! { section #week { h2 { (c.lang.pick("本周节目", "This week")) } } }
}
