//! The schedule files on the operator's page (placeholder until built).

use super::Ctx;
use crate::views::Reading;
use maud::{html, Markup};

pub(super) fn section(_r: &Reading, c: &Ctx<'_>) -> Markup {
    html! { section #schedules { h2 { (c.lang.pick("节目单文件", "Schedule files")) } } }
}
