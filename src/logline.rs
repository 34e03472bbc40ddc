//! Log lines stay lines: a writer for the log sinks that escapes line
//! breaks inside one record (a broadcast name with a newline must not
//! forge a second record in the text log a technician reads or greps).
//! It owns that escaping only; it must not decide what is logged.

use std::io::Write;

/// Wraps a log sink. Each `write` is one formatted record (tracing's fmt
/// layer writes a record at once); a CR or LF inside it is written as
/// `\r` / `\n`, only the record's final newline is kept.
pub struct OneLine<W>(pub W);

impl<W: Write> Write for OneLine<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let (body, end) = match buf.strip_suffix(b"\n") {
            Some(b) => (b, &b"\n"[..]),
            None => (buf, &b""[..]),
        };
        if !body.iter().any(|b| matches!(b, b'\n' | b'\r')) {
            self.0.write_all(buf)?;
            return Ok(buf.len());
        }
        let mut out = Vec::with_capacity(buf.len() + 8);
        for &b in body {
            match b {
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b => out.push(b),
            }
        }
        out.extend_from_slice(end);
        self.0.write_all(&out)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_stays_one_line() {
        let cases: &[(&str, &str)] = &[
            ("plain\n", "plain\n"),
            (
                "name=一封信\nFORGED ERROR\n",
                "name=一封信\\nFORGED ERROR\n",
            ),
            ("a\r\nb\n", "a\\r\\nb\n"),
            ("no end", "no end"),
            ("\n", "\n"),
        ];
        for (input, want) in cases {
            let mut w = OneLine(Vec::new());
            assert_eq!(w.write(input.as_bytes()).unwrap(), input.len());
            assert_eq!(String::from_utf8(w.0).unwrap(), *want, "{input:?}");
        }
    }
}
