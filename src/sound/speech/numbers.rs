//! Numbers as Mandarin words: cardinals (一千五百, 两万), digit strings
//! (years, phone numbers), decimals and clock times. Pure functions of
//! their arguments; the scanner in `normalise` decides which reading a
//! number in a notice gets. It must not look at the text around a number.

const WAN: u64 = 10_000;
const YI: u64 = 100_000_000;
const WAN_YI: u64 = 1_000_000_000_000;

const DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];

/// One digit as its plain word (`0` → 零).
pub(super) fn digit(d: u8) -> &'static str {
    DIGITS[usize::from(d % 10)]
}

/// How a string of digits is read one by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DigitStyle {
    /// Years: 〇 for zero (二〇二六).
    Year,
    /// Phone numbers and hotlines: 幺 for one (幺幺零), because 一 (yī) and
    /// 七 (qī) are easily confused over a loudspeaker; this is how people
    /// say phone numbers aloud.
    Phone,
    /// Codes and anything else read digit by digit: 零 and 一.
    Plain,
}

/// Reads each ASCII digit of `s` as a word; other characters are dropped.
pub(super) fn digits(s: &str, style: DigitStyle) -> String {
    s.bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| match (b - b'0', style) {
            (0, DigitStyle::Year) => "〇",
            (1, DigitStyle::Phone) => "幺",
            (d, _) => digit(d),
        })
        .collect()
}

/// A whole number as a cardinal: 10 → 十, 110 → 一百一十, 1005 → 一千零五,
/// 20000 → 两万. A leading 2 of the thousands, 万 or 亿 place is 两 (两千,
/// 两万, 一万两千), as it is said; elsewhere 二 (二百, 十二万). Numbers from
/// 10¹⁶ up are out of range and read digit by digit.
pub(super) fn cardinal(n: u64) -> String {
    if n == 0 {
        return "零".into();
    }
    if n >= WAN_YI * WAN {
        return digits(&n.to_string(), DigitStyle::Plain);
    }
    const BIG: [&str; 4] = ["", "万", "亿", "万亿"];
    let groups = [n % WAN, n / WAN % WAN, n / YI % WAN, n / WAN_YI];
    let mut out = String::new();
    let mut zero_pending = false;
    for k in (0..4).rev() {
        let g = groups[k];
        if g == 0 {
            zero_pending = !out.is_empty();
            continue;
        }
        if !out.is_empty() && (zero_pending || g < 1000) {
            out.push('零');
        }
        zero_pending = false;
        if g == 2 && k > 0 {
            out.push('两');
        } else {
            out.push_str(&group(g));
        }
        out.push_str(BIG[k]);
    }
    // 10..19 at the head of a number: 十五, 十五万, not 一十五.
    match out.strip_prefix("一十") {
        Some(rest) => format!("十{rest}"),
        None => out,
    }
}

/// 1..=9999 as words, with 零 for inner gaps (一千零五).
fn group(g: u64) -> String {
    const PLACES: [&str; 4] = ["千", "百", "十", ""];
    let ds = [g / 1000, g / 100 % 10, g / 10 % 10, g % 10];
    let mut out = String::new();
    let mut gap = false;
    for (i, &d) in ds.iter().enumerate() {
        if d == 0 {
            gap = !out.is_empty();
            continue;
        }
        if gap {
            out.push('零');
            gap = false;
        }
        if d == 2 && i == 0 {
            out.push('两');
        } else {
            out.push_str(digit(d as u8));
        }
        out.push_str(PLACES[i]);
    }
    out
}

/// A number as written in a notice: whole part (thousands commas allowed)
/// and an optional fraction, read as 三点五, 十二点五, 零点五.
/// `None` when the whole part does not fit a cardinal.
pub(super) fn decimal(whole: &str, frac: Option<&str>) -> Option<String> {
    let n: u64 = whole.replace(',', "").parse().ok()?;
    let mut out = cardinal(n);
    if let Some(f) = frac.filter(|f| !f.is_empty()) {
        out.push('点');
        out.push_str(&digits(f, DigitStyle::Plain));
    }
    Some(out)
}

/// The hour of a clock time: 2 → 两点, 0 → 零点, 20 → 二十点.
pub(super) fn hour(h: u32) -> String {
    if h == 2 {
        "两点".into()
    } else {
        format!("{}点", cardinal(u64::from(h)))
    }
}

/// The minutes of a clock time: nothing for 0, 零五分 when written with a
/// leading zero (`08:05`, `8点05分`), 五分 or 三十分 otherwise.
pub(super) fn minutes(written: &str) -> String {
    let m: u64 = written.parse().unwrap_or(0);
    match m {
        0 => String::new(),
        1..=9 if written.len() == 2 => format!("零{}分", digit(m as u8)),
        _ => format!("{}分", cardinal(m)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cardinals_read_as_said() {
        let table: &[(u64, &str)] = &[
            (0, "零"),
            (2, "二"),
            (10, "十"),
            (15, "十五"),
            (20, "二十"),
            (100, "一百"),
            (110, "一百一十"),
            (200, "二百"),
            (1005, "一千零五"),
            (1050, "一千零五十"),
            (1500, "一千五百"),
            (2000, "两千"),
            (10000, "一万"),
            (12000, "一万两千"),
            (20000, "两万"),
            (100000, "十万"),
            (150000, "十五万"),
            (120000, "十二万"),
            (100_0005, "一百万零五"),
            (1_0000_0500, "一亿零五百"),
            (2_0000_0000, "两亿"),
            (3_0001_0000, "三亿零一万"),
        ];
        for (n, want) in table {
            assert_eq!(cardinal(*n), *want, "{n}");
        }
    }

    #[test]
    fn digit_styles_differ_only_where_they_must() {
        assert_eq!(digits("2026", DigitStyle::Year), "二〇二六");
        assert_eq!(digits("110", DigitStyle::Phone), "幺幺零");
        assert_eq!(digits("110", DigitStyle::Plain), "一一零");
        assert_eq!(decimal("1,500", Some("25")), Some("一千五百点二五".into()));
        assert_eq!(minutes("05"), "零五分");
        assert_eq!(minutes("5"), "五分");
        assert_eq!(minutes("00"), "");
        assert_eq!(hour(2), "两点");
        assert_eq!(hour(12), "十二点");
    }
}
