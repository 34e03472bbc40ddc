//! Messages of running the station: the station folder, `plan --days`, a
//! second daemon, a schedule emptied, and the event store lost, unreadable
//! or damaged. Words only.

use super::lang::Lang;
use super::msg::Msg;
use std::fmt::Write as _;

/// Writes `msg` in `lang`; [`Msg::render`] routes only this area's
/// variants here.
pub(super) fn render(msg: &Msg, lang: Lang, w: &mut String) {
    use Lang::*;
    match (msg, lang) {
        (Msg::StationFolderMissing { path }, Zh) => {
            let _ = write!(w, "广播站文件夹 {path} 不存在（或不是文件夹）。请检查 --station 参数或环境变量 CUNXIANG_STATION");
        }
        (Msg::StationFolderMissing { path }, En) => {
            let _ = write!(w, "the station folder {path} does not exist (or is not a folder); check --station or the CUNXIANG_STATION variable");
        }
        (Msg::PlanDaysOutOfRange { value, max }, Zh) => {
            let _ = write!(w, "--days {value} 不行：计划一次最多 {max} 天（一年），至少 1 天。请写 1 到 {max} 之间的整数；要看更远，用 --from 分几次查看");
        }
        (Msg::PlanDaysOutOfRange { value, max }, En) => {
            let _ = write!(w, "--days {value} is not allowed: one plan covers 1 to {max} days (a year); give a whole number from 1 to {max}, and use --from for later windows");
        }
        (Msg::ScheduleEmptied, Zh) => {
            let _ = write!(w, "这个节目单文件现在一个 [[broadcast]] 都没有（像是没保存完），上一个正确的版本仍在播出。请把内容补全后保存；如果确实要停播这些节目，请删除这个文件");
        }
        (Msg::ScheduleEmptied, En) => {
            let _ = write!(w, "this schedule file now holds no [[broadcast]] (a save cut short?), so its last good version stays on air; complete it and save, or delete the file to take its broadcasts off air");
        }
        (Msg::SecondDaemonRefused, Zh) => {
            let _ = write!(w, "这个广播站已经有一个播控程序在运行，不能再开第二个（否则会重复播出）。请先停止正在运行的那个");
        }
        (Msg::SecondDaemonRefused, En) => {
            let _ = write!(w, "refusing to start a second daemon (it would play every broadcast twice); stop the running one first");
        }
        (Msg::StoreLostStopping, Zh) => {
            let _ = write!(w, "播出数据库写不进去（磁盘满了、只读或坏了），程序停止，以免播出没有记录。请检查数据文件夹所在的磁盘，修好后重新启动");
        }
        (Msg::StoreLostStopping, En) => {
            let _ = write!(w, "the database cannot be written (disk full, read-only or failing); stopping rather than play without a record. Check the disk of the data folder, then start again");
        }
        (Msg::StoreUnreadable, Zh) => {
            let _ = write!(
                w,
                "无法读取播出数据库，记录看不到（不是没有故障）。请检查数据文件夹的权限和磁盘"
            );
        }
        (Msg::StoreUnreadable, En) => {
            let _ = write!(w, "cannot read the database, so nothing can be shown (this is not \"all clear\"); check the data folder's permissions and the disk");
        }
        (Msg::StoreDamaged, Zh) => {
            let _ = write!(w, "播出数据库已损坏（不是数据库文件，或内部损坏），记录看不到（不是没有故障）。启动 cunxiang run：它把损坏的文件另存在旁边备查，新建数据库继续播出；或者从备份恢复这个文件");
        }
        (Msg::StoreDamaged, En) => {
            let _ = write!(w, "the database is damaged (not a database file, or broken inside), so nothing can be shown (this is not \"all clear\"); start cunxiang run: it keeps the damaged file beside for inspection and starts a new one, broadcasting on; or restore the file from a backup");
        }
        (other, _) => {
            debug_assert!(false, "{other:?} routed to the wrong area");
            let _ = write!(w, "{other:?}");
        }
    }
}
