//! The notice as it should be read: rewrites what espeak-ng would read
//! wrong (digits, clock times, dates, phone numbers, percentages, units,
//! line breaks) into Chinese words, and leaves every other character as
//! written (Chinese punctuation too: espeak pauses on it).
//! A pure function of the text: it must not run the engine, read a file or
//! know the voice.
//!
//! Choices, so a listener on a loudspeaker hears one reading:
//! - phone numbers and hotlines digit by digit with 幺 for one (幺幺零),
//!   mobiles grouped 3-4-4 and landlines at their hyphen with a pause (，);
//! - 两 for a lone 2 before a measure word (两户, 两公斤, 两点) and for the
//!   2 of 两千, 两万, 两亿; 二 elsewhere (二月, 第二, 二摄氏度);
//! - years digit by digit with 〇 (二〇二六年);
//! - runs of 7 or more digits (not money) and numbers with a leading 0 are
//!   codes, read digit by digit;
//! - a line break where no punctuation ends the line becomes 。 (a title line
//!   is then not run into the first sentence).

use super::numbers::{digits, DigitStyle};

/// Rewrites a notice into text that espeak-ng's Mandarin voice reads as a
/// person would: `今晚20:00停水` → `今晚二十点停水`, `30%` → `百分之三十`,
/// `-5℃` → `零下五摄氏度`, `拨打12345` → `拨打幺二三四五`.
pub fn normalise(text: &str) -> String {
    let chars: Vec<char> = text.chars().map(halfwidth).collect();
    let mut s = Scanner {
        c: &chars,
        out: String::with_capacity(text.len() * 2),
        i: 0,
        last_num_end: None,
    };
    while s.i < chars.len() {
        s.step();
    }
    s.out
}

/// Full-width digits and percent sign as their ASCII forms.
fn halfwidth(c: char) -> char {
    match c {
        '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
        '％' => '%',
        _ => c,
    }
}

const MINUS: &[char] = &['-', '−', '－'];
const RANGE: &[char] = &['-', '~', '～', '〜', '－', '—', '–'];

/// Words before a number that make it a phone number or hotline.
const PHONE_BEFORE: &[&str] = &[
    "电话",
    "热线",
    "拨打",
    "致电",
    "手机",
    "号码",
    "联系方式",
    "传真",
    "呼叫",
    "Tel",
    "TEL",
    "tel",
];
/// Words right after a number that make it a hotline (`110报警`).
const PHONE_AFTER: &[&str] = &["热线", "电话", "报警", "急救", "火警"];

/// Measure words before which a lone 2 is 两.
const LIANG_CHARS: &str =
    "个人名位户次天条件辆台只头间张本斤吨亩周遍家所座处支批套元块米岁倍起趟架场根桶箱袋瓶包千万亿升克";
const LIANG_WORDS: &[&str] = &[
    "小时",
    "公斤",
    "公里",
    "千米",
    "分钟",
    "公顷",
    "千克",
    "毫米",
    "厘米",
    "平方米",
    "立方米",
    "毫升",
];

/// Units written in Latin letters or symbols, longest first.
const UNITS: &[(&str, &str)] = &[
    ("km/h", "公里每小时"),
    ("m/s", "米每秒"),
    ("kWh", "千瓦时"),
    ("kwh", "千瓦时"),
    ("min", "分钟"),
    ("km", "公里"),
    ("KM", "公里"),
    ("Km", "公里"),
    ("kg", "公斤"),
    ("KG", "公斤"),
    ("Kg", "公斤"),
    ("kW", "千瓦"),
    ("kw", "千瓦"),
    ("KW", "千瓦"),
    ("cm", "厘米"),
    ("mm", "毫米"),
    ("ml", "毫升"),
    ("mL", "毫升"),
    ("m²", "平方米"),
    ("m³", "立方米"),
    ("°C", "摄氏度"),
    ("℃", "摄氏度"),
    ("℉", "华氏度"),
    ("㎡", "平方米"),
    ("°", "度"),
    ("m", "米"),
    ("g", "克"),
    ("L", "升"),
    ("h", "小时"),
];

/// A number as written: its digits, fraction and where it ends.
struct Num {
    whole: String,
    frac: Option<String>,
    end: usize,
}

struct Scanner<'a> {
    c: &'a [char],
    out: String,
    i: usize,
    /// Where the last number (with its unit) ended: a dash right after it
    /// (or after a short unit word) and before another number is 至.
    last_num_end: Option<usize>,
}

impl Scanner<'_> {
    fn at(&self, j: usize) -> Option<char> {
        self.c.get(j).copied()
    }

    fn digit_at(&self, j: usize) -> bool {
        self.at(j).is_some_and(|c| c.is_ascii_digit())
    }

    /// The text from `j` starts with `word`.
    fn has(&self, j: usize, word: &str) -> bool {
        word.chars()
            .enumerate()
            .all(|(k, w)| self.at(j + k) == Some(w))
    }

    fn step(&mut self) {
        let c = self.c[self.i];
        if c == '\n' || c == '\r' {
            self.line_break();
            return;
        }
        if let Some((end, words)) = self.number_at(self.i) {
            self.out.push_str(&words);
            self.i = end;
            self.last_num_end = Some(end);
            return;
        }
        if RANGE.contains(&c) && self.after_number(self.i) {
            let mut j = self.i;
            while self.at(j) == Some(c) {
                j += 1;
            }
            let k = self.skip_spaces(j);
            if self.starts_number(k) {
                self.out.push('至');
                self.i = k;
                return;
            }
        }
        match symbol(c, self.after_number(self.i)) {
            Some(words) => self.out.push_str(words),
            None => self.out.push(c),
        }
        self.i += 1;
    }

    fn line_break(&mut self) {
        while matches!(self.at(self.i), Some('\n' | '\r')) {
            self.i += 1;
        }
        let last = self.out.trim_end().chars().last();
        if last.is_some_and(|c| !is_punct(c)) && self.i < self.c.len() {
            self.out.push('。');
        }
    }

    fn skip_spaces(&self, mut j: usize) -> usize {
        while self.at(j).is_some_and(|c| c == ' ' || c == '\u{3000}') {
            j += 1;
        }
        j
    }

    fn starts_number(&self, j: usize) -> bool {
        match self.at(j) {
            Some(c) if c.is_ascii_digit() => true,
            Some(c) if MINUS.contains(&c) || c == '¥' || c == '￥' => self.digit_at(j + 1),
            _ => false,
        }
    }

    /// A number ended at `i`, or a few letters of a unit word before it
    /// (`3公斤-5公斤`, `3日-5日`), spaces aside.
    fn after_number(&self, i: usize) -> bool {
        let Some(end) = self.last_num_end else {
            return false;
        };
        let mut j = i;
        while j > end && matches!(self.c[j - 1], ' ' | '\u{3000}') {
            j -= 1;
        }
        j >= end && j - end <= 3 && self.c[end..j].iter().all(|&c| is_cjk_letter(c))
    }

    /// The words for a number starting at `i`, and where it ends; `None`
    /// when no number starts there.
    fn number_at(&self, i: usize) -> Option<(usize, String)> {
        let c = self.at(i)?;
        if c == '¥' || c == '￥' {
            return self.money(i);
        }
        if MINUS.contains(&c) {
            let prev_alnum = i > 0 && self.c[i - 1].is_ascii_alphanumeric();
            if !self.digit_at(i + 1) || prev_alnum || self.after_number(i) {
                return None;
            }
            return self.signed(i);
        }
        if !c.is_ascii_digit() {
            return None;
        }
        if i > 0 && self.c[i - 1].is_ascii_alphabetic() {
            // A code such as G60 or K1234: digit by digit.
            let end = self.run_end(i);
            let run: String = self.c[i..end].iter().collect();
            return Some((end, digits(&run, DigitStyle::Plain)));
        }
        self.iso_date(i)
            .or_else(|| self.landline(i))
            .or_else(|| self.clock(i))
            .or_else(|| self.phone(i))
            .or_else(|| self.year(i))
            .or_else(|| self.hour_dian(i))
            .or_else(|| self.code(i))
            .or_else(|| self.plain(i))
    }

    /// End of the run of ASCII digits starting at `i`.
    fn run_end(&self, i: usize) -> usize {
        let mut j = i;
        while self.digit_at(j) {
            j += 1;
        }
        j
    }

    fn run(&self, i: usize) -> (String, usize) {
        let end = self.run_end(i);
        (self.c[i..end].iter().collect(), end)
    }
}

/// A symbol espeak-ng would read in English (`/` as "slash", `+` as
/// "plus"), as Chinese words; `None` for every other character.
fn symbol(c: char, after_number: bool) -> Option<&'static str> {
    Some(match c {
        '/' if after_number => "每",
        '/' => "、",
        '#' if after_number => "号",
        '&' => "和",
        '+' => "加",
        '=' => "等于",
        '±' => "正负",
        '℃' => "摄氏度",
        '#' | '~' | '*' | '@' | '\\' | '%' | '^' | '`' => "",
        _ => return None,
    })
}

fn is_punct(c: char) -> bool {
    c.is_ascii_punctuation()
        || ('\u{3000}'..='\u{303F}').contains(&c)
        || ('\u{FF00}'..='\u{FF0F}').contains(&c)
        || ('\u{FF1A}'..='\u{FF20}').contains(&c)
        || matches!(c, '…' | '—' | '“' | '”' | '‘' | '’')
}

/// A Chinese character that is not punctuation.
fn is_cjk_letter(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c) || ('\u{3400}'..='\u{4DBF}').contains(&c)
}

mod patterns;

#[cfg(test)]
mod tests;
