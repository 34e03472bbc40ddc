//! The number patterns of a notice, tried in order where a digit starts:
//! dates, landlines, clock times, phone numbers, years, `N点`, codes, then
//! a plain number with its percent sign, unit or currency. Each returns the
//! words and where the pattern ends, or `None` to let the next one try.
//! Words only: it must not change what the scanner keeps as written.

use super::{
    Num, Scanner, LIANG_CHARS, LIANG_WORDS, MINUS, PHONE_AFTER, PHONE_BEFORE, RANGE, UNITS,
};
use crate::sound::speech::numbers::{
    cardinal, decimal, digits, hour, minutes,
    DigitStyle::{Phone, Plain, Year},
};

type Found = Option<(usize, String)>;

impl Scanner<'_> {
    /// `2026-12-03`, `2026/12/3`, `2026.12.3` → 二〇二六年十二月三日.
    pub(super) fn iso_date(&self, i: usize) -> Found {
        let (y, j) = self.run(i);
        let sep = self.at(j).filter(|c| matches!(c, '-' | '/' | '.'))?;
        let (m, k) = self.run(j + 1);
        if y.len() != 4 || m.is_empty() || m.len() > 2 || self.at(k) != Some(sep) {
            return None;
        }
        let (d, mut end) = self.run(k + 1);
        if d.is_empty() || d.len() > 2 {
            return None;
        }
        let (mv, dv): (u64, u64) = (m.parse().ok()?, d.parse().ok()?);
        if !(1..=12).contains(&mv) || !(1..=31).contains(&dv) {
            return None;
        }
        if matches!(self.at(end), Some('日' | '号')) {
            end += 1;
        }
        let words = format!("{}年{}月{}日", digits(&y, Year), cardinal(mv), cardinal(dv));
        Some((end, words))
    }

    /// `0571-88888888` → 零五七幺，八八八八，八八八八.
    pub(super) fn landline(&self, i: usize) -> Found {
        let (area, j) = self.run(i);
        if !area.starts_with('0') || !(3..=4).contains(&area.len()) {
            return None;
        }
        if !matches!(self.at(j), Some('-' | '－' | '—' | ' ')) {
            return None;
        }
        let (local, end) = self.run(j + 1);
        if !(7..=8).contains(&local.len()) {
            return None;
        }
        Some((
            end,
            format!("{}，{}", digits(&area, Phone), grouped(&local)),
        ))
    }

    /// `20:00` → 二十点, `8:30` → 八点三十分, `08:05` → 八点零五分,
    /// `7:30:15` → 七点三十分十五秒.
    pub(super) fn clock(&self, i: usize) -> Found {
        let (h, j) = self.run(i);
        if h.is_empty() || h.len() > 2 || !matches!(self.at(j), Some(':' | '：')) {
            return None;
        }
        let (m, mut end) = self.run(j + 1);
        if m.len() != 2 {
            return None;
        }
        let (hv, mv): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        if hv > 24 || mv > 59 {
            return None;
        }
        let mut words = hour(hv) + &minutes(&m);
        if matches!(self.at(end), Some(':' | '：')) {
            let (s, e) = self.run(end + 1);
            if let Some(sv) = s.parse::<u64>().ok().filter(|v| s.len() == 2 && *v < 60) {
                if sv > 0 {
                    words.push_str(&format!("{}秒", cardinal(sv)));
                }
                end = e;
            }
        }
        Some((end, words))
    }

    /// A mobile (11 digits from 1), or a number right after 电话/热线/拨打
    /// or right before 热线/报警: digit by digit.
    pub(super) fn phone(&self, i: usize) -> Found {
        let (run, end) = self.run(i);
        if self.at(end) == Some('.') && self.digit_at(end + 1) {
            return None;
        }
        let mobile = run.len() == 11 && run.starts_with('1');
        let hotline = run.len() >= 3 && (self.phone_before(i) || self.phone_after(end));
        (mobile || hotline).then(|| (end, grouped(&run)))
    }

    fn phone_before(&self, i: usize) -> bool {
        let mut j = i;
        while j > 0 && matches!(self.c[j - 1], ' ' | '\u{3000}' | ':' | '：' | '为' | '是') {
            j -= 1;
        }
        let before: String = self.c[j.saturating_sub(4)..j].iter().collect();
        // An extension: `0571-88888888转8001`.
        let extension = j >= 2 && self.c[j - 1] == '转' && self.c[j - 2].is_ascii_digit();
        extension || PHONE_BEFORE.iter().any(|w| before.ends_with(w))
    }

    /// 热线 or 报警 right after, or 热线 after a few more letters
    /// (`12345政务服务便民热线`).
    fn phone_after(&self, end: usize) -> bool {
        if PHONE_AFTER.iter().any(|w| self.has(end, w)) {
            return true;
        }
        (end..end + 8)
            .take_while(|&j| self.at(j).is_some_and(super::is_cjk_letter))
            .any(|j| self.has(j, "热线"))
    }

    /// `2026年` → 二〇二六 (the 年 stays as written), and the first year
    /// of `2025-2026年`.
    pub(super) fn year(&self, i: usize) -> Found {
        let (y, end) = self.run(i);
        let range = self.at(end).is_some_and(|c| RANGE.contains(&c)) && {
            let (y2, e2) = self.run(end + 1);
            y2.len() == 4 && self.at(e2) == Some('年')
        };
        (y.len() == 4 && (self.at(end) == Some('年') || range)).then(|| (end, digits(&y, Year)))
    }

    /// `8点` → 八点, `2点` → 两点, `8点30分` and `8点30` → 八点三十分,
    /// `8点05分` → 八点零五分.
    pub(super) fn hour_dian(&self, i: usize) -> Found {
        let (h, j) = self.run(i);
        if h.len() > 2 || self.at(j) != Some('点') {
            return None;
        }
        let hv: u32 = h.parse().ok()?;
        if hv > 24 {
            return None;
        }
        let mut words = hour(hv);
        let mut end = j + 1;
        let (m, k) = self.run(end);
        let with_fen = self.at(k) == Some('分');
        let mv: u32 = m.parse().unwrap_or(60);
        if (with_fen || m.len() == 2) && m.len() <= 2 && mv < 60 {
            words.push_str(&minutes(&m));
            end = if with_fen { k + 1 } else { k };
        }
        Some((end, words))
    }

    /// Numbers with a leading 0 (`007号`) and runs of 7 digits or more that
    /// are not money (an ID, an account): digit by digit. `08月` stays a
    /// month.
    pub(super) fn code(&self, i: usize) -> Found {
        let (run, end) = self.run(i);
        if matches!(self.at(end), Some('.' | ',')) && self.digit_at(end + 1) {
            return None;
        }
        let leading_zero = run.len() >= 2 && run.starts_with('0');
        let next = self.at(end);
        if leading_zero && run.len() == 2 && next.is_some_and(|c| "月日号时分秒".contains(c))
        {
            return Some((end, cardinal(run.parse().ok()?)));
        }
        let amount = next.is_some_and(|c| "元万亿%".contains(c)) || self.unit_at(end).is_some();
        (leading_zero || (run.len() >= 7 && !amount)).then(|| (end, digits(&run, Plain)))
    }

    /// Any other number: 1,500 → 一千五百, 3.5 → 三点五, 30% → 百分之三十,
    /// 25℃ → 二十五摄氏度, 2户 → 两户.
    pub(super) fn plain(&self, i: usize) -> Found {
        self.spoken(self.number(i)?, i, Sign::None)
    }

    /// `-3` → 负三, `-5℃` and `-5~3℃` → 零下五….
    pub(super) fn signed(&self, i: usize) -> Found {
        self.spoken(self.number(i + 1)?, i, Sign::Minus)
    }

    /// `¥50` → 五十元 (`¥50元` too, without a second 元).
    pub(super) fn money(&self, i: usize) -> Found {
        self.spoken(self.number(i + 1)?, i, Sign::Yuan)
    }

    /// The digits of a number from `i`: thousands commas, a fraction.
    fn number(&self, i: usize) -> Option<Num> {
        let (mut whole, mut end) = self.run(i);
        if whole.is_empty() {
            return None;
        }
        if whole.len() <= 3 {
            while self.at(end) == Some(',') {
                let (g, e) = self.run(end + 1);
                if g.len() != 3 {
                    break;
                }
                whole.push_str(&g);
                end = e;
            }
        }
        let mut frac = None;
        if self.at(end) == Some('.') && self.digit_at(end + 1) {
            let (f, e) = self.run(end + 1);
            frac = Some(f);
            end = e;
        }
        Some(Num { whole, frac, end })
    }

    fn spoken(&self, num: Num, start: usize, sign: Sign) -> Found {
        let mut end = num.end;
        if self.at(end) == Some('%') {
            let n = decimal(&num.whole, num.frac.as_deref())?;
            let minus = if sign == Sign::Minus { "负" } else { "" };
            return Some((end + 1, format!("百分之{minus}{n}")));
        }
        let unit = self.unit_at(end);
        let yuan = sign == Sign::Yuan || self.at(end) == Some('元');
        let zero_frac = num
            .frac
            .as_deref()
            .is_some_and(|f| f.bytes().all(|b| b == b'0'));
        let frac = if yuan && zero_frac { None } else { num.frac };
        let mut n = decimal(&num.whole, frac.as_deref())?;
        let word = unit.map(|(_, w)| w);
        let ordinal = start > 0 && self.c[start - 1] == '第';
        if n == "二" && !ordinal && (sign == Sign::Yuan || self.liang_next(end, word)) {
            n = "两".into();
        }
        let cold = word == Some("摄氏度") || self.temperature_ahead(end);
        let words = match sign {
            Sign::Minus if cold => format!("零下{n}"),
            Sign::Minus => format!("负{n}"),
            _ => n,
        };
        let mut words = words + word.unwrap_or("");
        if let Some((e, _)) = unit {
            end = e;
        }
        if sign == Sign::Yuan && self.at(end) != Some('元') {
            words.push('元');
        }
        Some((end, words))
    }

    /// A unit written in Latin letters or a symbol at `j` (one space
    /// allowed before it), not followed by more letters: its end and word.
    pub(super) fn unit_at(&self, j: usize) -> Option<(usize, &'static str)> {
        let j = if self.at(j) == Some(' ') { j + 1 } else { j };
        UNITS.iter().find_map(|(pat, word)| {
            let end = j + pat.chars().count();
            let more = self.at(end).is_some_and(|c| c.is_ascii_alphabetic());
            (self.has(j, pat) && !more).then_some((end, *word))
        })
    }

    /// A measure word at `end` (or the unit's word) before which 2 is 两.
    fn liang_next(&self, end: usize, unit: Option<&str>) -> bool {
        match unit {
            Some(u) => {
                LIANG_WORDS.contains(&u)
                    || u.chars().next().is_some_and(|c| LIANG_CHARS.contains(c))
            }
            None => {
                self.at(end).is_some_and(|c| LIANG_CHARS.contains(c))
                    || LIANG_WORDS.iter().any(|w| self.has(end, w))
            }
        }
    }

    /// A range from here ends in a temperature (`-5~3℃`), so the minus is 零下.
    fn temperature_ahead(&self, end: usize) -> bool {
        let Some(c) = self.at(end).filter(|c| RANGE.contains(c)) else {
            return false;
        };
        let mut j = end;
        while self.at(j) == Some(c) {
            j += 1;
        }
        if self.at(j).is_some_and(|c| MINUS.contains(&c)) {
            j += 1;
        }
        self.number(j)
            .and_then(|n| self.unit_at(n.end))
            .is_some_and(|(_, w)| w == "摄氏度")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sign {
    None,
    Minus,
    /// Written after ¥ or ￥.
    Yuan,
}

/// Digit by digit with 幺, grouped as people say them: mobiles 3-4-4,
/// eight-digit numbers 4-4, seven-digit 3-4, with a pause (，) between.
fn grouped(run: &str) -> String {
    let cuts: &[usize] = match run.len() {
        11 if run.starts_with('1') => &[3, 7],
        8 => &[4],
        7 => &[3],
        _ => &[],
    };
    let mut out = String::new();
    let mut from = 0;
    for &cut in cuts.iter().chain(std::iter::once(&run.len())) {
        if from > 0 {
            out.push('，');
        }
        out.push_str(&digits(&run[from..cut], Phone));
        from = cut;
    }
    out
}
