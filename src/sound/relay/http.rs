//! An HTTP (Icecast, Shoutcast) stream: the request, the answer (with
//! redirects, and Shoutcast's `ICY 200 OK`), and the decoder over the
//! body. Every read has a deadline (no byte for `no_data_after` ends the
//! connection): an HTTP client with only whole-body budgets cannot see a
//! stream that stalls, which is why this speaks the few lines of HTTP/1.0
//! a stream needs itself (headers are parsed by `httparse`).

use super::RelaySettings;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::DecoderOptions;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::{MediaSourceStream, ReadOnlySource};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

/// The most redirects followed.
const MAX_REDIRECTS: usize = 5;
/// The most header bytes read.
const MAX_HEADER: usize = 16 * 1024;

/// An open stream: its body, and what the server said it is.
pub(crate) struct Answer {
    pub(crate) body: Watched<BufReader<TcpStream>>,
    pub(crate) content_type: Option<String>,
}

/// Connects and asks for the stream, following redirects.
///
/// # Errors
/// Why there is no stream: the address, the connection, the answer.
pub(crate) fn connect(url: &str, s: &RelaySettings) -> Result<Answer, String> {
    let mut url = url.to_string();
    for _ in 0..=MAX_REDIRECTS {
        match request(&url, s)? {
            Reply::Stream(a) => return Ok(a),
            Reply::Redirect(to) => url = redirected(&url, &to)?,
        }
    }
    Err(format!("more than {MAX_REDIRECTS} redirects"))
}

/// Where a redirect from `from` to `to` (absolute, `//host/…`, `/path`
/// or relative to `from`'s folder) leads.
fn redirected(from: &str, to: &str) -> Result<String, String> {
    let lower = to.to_ascii_lowercase();
    if lower.starts_with("http://") {
        return Ok(to.to_string());
    }
    if lower.starts_with("https://") {
        return Err(format!("redirected to {to}: https is not supported"));
    }
    if let Some(rest) = to.strip_prefix("//") {
        return Ok(format!("http://{rest}"));
    }
    let (host, _, path) = split(from)?;
    if to.starts_with('/') {
        return Ok(format!("http://{host}{to}"));
    }
    let path = path.split(['?', '#']).next().unwrap_or("/");
    let folder = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    Ok(format!(
        "http://{host}{}{to}",
        if folder.is_empty() { "/" } else { folder }
    ))
}

enum Reply {
    Stream(Answer),
    Redirect(String),
}

/// `http://host[:port]/path` → (`host[:port]`, port, `/path`).
fn split(url: &str) -> Result<(String, u16, String), String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("HTTP://"))
        .ok_or_else(|| format!("not an http:// address: {url}"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let port = match authority.rsplit_once(':') {
        Some((_, p)) if !authority.ends_with(']') => {
            p.parse().map_err(|_| format!("bad port in {url}"))?
        }
        _ => 80,
    };
    if authority.is_empty() {
        return Err(format!("no host in {url}"));
    }
    Ok((authority.to_string(), port, path.to_string()))
}

fn request(url: &str, s: &RelaySettings) -> Result<Reply, String> {
    let (authority, port, path) = split(url)?;
    let host = match authority.rsplit_once(':') {
        Some((h, _)) if !authority.ends_with(']') => h.to_string(),
        _ => authority.clone(),
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let mut stream = open_tcp(&host, port, s.connect_timeout)?;
    let io = |e: std::io::Error| format!("connection to {authority} failed: {e}");
    stream
        .set_read_timeout(Some(s.connect_timeout))
        .map_err(io)?;
    stream
        .set_write_timeout(Some(s.connect_timeout))
        .map_err(io)?;
    let _ = stream.set_nodelay(true);
    // A space written in the address is not allowed on the request line.
    let path = path.replace(' ', "%20");
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {authority}\r\nUser-Agent: cunxiang/{}\r\nAccept: */*\r\nIcy-MetaData: 0\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    )
    .map_err(io)?;
    let mut body = BufReader::with_capacity(64 * 1024, stream);
    let head =
        read_head(&mut body, Instant::now() + s.connect_timeout).map_err(|e| match e.kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => format!(
                "{authority} did not answer within {} s",
                s.connect_timeout.as_secs()
            ),
            _ => io(e),
        })?;
    // Shoutcast answers `ICY 200 OK`: HTTP/1.0 in all but name.
    let head = match head.strip_prefix(b"ICY ") {
        Some(rest) => [b"HTTP/1.0 ".as_slice(), rest].concat(),
        None => head,
    };
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut headers);
    resp.parse(&head)
        .map_err(|e| format!("{authority} did not answer in HTTP: {e}"))?;
    let code = resp.code.unwrap_or(0);
    let header = |name: &str| {
        resp.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_string())
    };
    match code {
        200 => {
            body.get_ref()
                .set_read_timeout(Some(s.no_data_after))
                .map_err(io)?;
            Ok(Reply::Stream(Answer {
                content_type: header("content-type"),
                body: Watched {
                    inner: body,
                    window: s.no_data_after,
                    since: Instant::now(),
                    bytes: 0,
                    check: None,
                },
            }))
        }
        301 | 302 | 303 | 307 | 308 => header("location")
            .map(Reply::Redirect)
            .ok_or_else(|| format!("{authority} answered {code} without a Location")),
        _ => Err(format!(
            "{authority} answered {code} {}",
            resp.reason.unwrap_or("")
        )),
    }
}

/// Connects to the first address of `host` that answers.
fn open_tcp(host: &str, port: u16, timeout: Duration) -> Result<TcpStream, String> {
    let addrs: Vec<_> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    let mut last = format!("no address for {host}");
    let mut stream = None;
    for a in addrs {
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(t) => {
                stream = Some(t);
                break;
            }
            Err(e) => last = format!("cannot connect to {a}: {e}"),
        }
    }
    stream.ok_or(last)
}

/// Reads up to the blank line that ends the headers: at most
/// [`MAX_HEADER`] bytes, all of them by `deadline` (a server that
/// trickles its answer is not waited on past it).
fn read_head(r: &mut BufReader<TcpStream>, deadline: Instant) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::ErrorKind::TimedOut.into());
        }
        r.get_ref().set_read_timeout(Some(left))?;
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "closed before its answer",
            ));
        }
        let mut used = 0;
        let mut done = false;
        for &b in buf {
            used += 1;
            head.push(b);
            if head.ends_with(b"\r\n\r\n") || head.ends_with(b"\n\n") {
                done = true;
                break;
            }
        }
        r.consume(used);
        if done {
            return Ok(head);
        }
        if head.len() > MAX_HEADER {
            return Err(std::io::Error::other("answer headers too long"));
        }
    }
}

/// The body of a stream, watched: fewer than [`MIN_BYTES`] in any span
/// of `window` (a server that trickles) is an error, as no byte at all
/// is (the socket's read timeout).
pub(crate) struct Watched<R> {
    inner: R,
    window: Duration,
    since: Instant,
    bytes: usize,
    /// Asked at every read: a reason to give up on the stream (the slot
    /// is over; no sound after a while), or `None`.
    pub(crate) check: Option<Check>,
}

/// Why a reader gives up on a stream, asked at every read.
pub(crate) type Check = Box<dyn Fn() -> Option<String> + Send + Sync>;

/// An error the watch raised (not the socket's), with its reason.
#[derive(Debug)]
struct GaveUp(String);

impl std::fmt::Display for GaveUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GaveUp {}

/// The least a stream must send per `no_data_after` (an MP3 of 8 kbit/s
/// sends 1 KB a second).
pub(crate) const MIN_BYTES: usize = 512;

impl<R: Read> Read for Watched<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some(why) = self.check.as_ref().and_then(|c| c()) {
            return Err(std::io::Error::other(GaveUp(why)));
        }
        let n = self.inner.read(buf)?;
        self.bytes += n;
        let spent = self.since.elapsed();
        if spent >= self.window {
            if self.bytes < MIN_BYTES {
                return Err(std::io::Error::other(GaveUp(format!(
                    "the stream is too slow: {} bytes in {:.0} s",
                    self.bytes,
                    spent.as_secs_f64()
                ))));
            }
            self.since = Instant::now();
            self.bytes = 0;
        }
        Ok(n)
    }
}

/// Why a stream's sound stopped coming.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StreamEnd {
    /// Reading failed (closed, reset): why.
    Link(String),
    /// No data for this long.
    NoData(Duration),
    /// Sound below the threshold for this long.
    Silence(String, Duration),
    /// The sound changed format (channels or rate) mid-stream.
    FormatChanged(String),
    /// The bytes cannot be decoded.
    Undecodable(String),
}

/// The decoder over a stream's body: packets in, interleaved samples out.
pub(crate) struct Decoded {
    format: Box<dyn FormatReader>,
    decoder: Box<dyn symphonia::core::codecs::Decoder>,
    track: u32,
    pub(crate) spec: (u16, u32),
    buf: Option<SampleBuffer<f32>>,
    first: Option<Vec<f32>>,
    no_data_after: Duration,
}

/// Consecutive packets that fail to decode before the stream counts as
/// undecodable (one bad frame is skipped).
const BAD_PACKETS: usize = 20;

impl Decoded {
    /// Probes the body and decodes its first sound (which fixes its
    /// format).
    ///
    /// # Errors
    /// How the stream ended or why it cannot be decoded.
    pub(crate) fn open(a: Answer, s: &RelaySettings) -> Result<Decoded, StreamEnd> {
        let mut hint = Hint::new();
        match a.content_type.as_deref().map(str::to_ascii_lowercase) {
            Some(t) if t.contains("aac") => hint.with_extension("aac"),
            Some(t) if t.contains("ogg") => hint.with_extension("ogg"),
            _ => hint.with_extension("mp3"),
        };
        let mss = MediaSourceStream::new(Box::new(ReadOnlySource::new(a.body)), Default::default());
        let probed = symphonia::default::get_probe()
            .format(
                &hint,
                mss,
                &FormatOptions::default(),
                &MetadataOptions::default(),
            )
            .map_err(|e| end_of(e, s.no_data_after))?;
        let format = probed.format;
        let track = format
            .default_track()
            .ok_or_else(|| StreamEnd::Undecodable("no audio track".into()))?;
        let id = track.id;
        let decoder = symphonia::default::get_codecs()
            .make(&track.codec_params, &DecoderOptions::default())
            .map_err(|e| StreamEnd::Undecodable(e.to_string()))?;
        let mut d = Decoded {
            format,
            decoder,
            track: id,
            spec: (0, 0),
            buf: None,
            first: None,
            no_data_after: s.no_data_after,
        };
        let (spec, samples) = d.packet()?;
        d.spec = spec;
        d.first = Some(samples);
        Ok(d)
    }

    /// The next decoded samples, interleaved at [`Decoded::spec`].
    ///
    /// # Errors
    /// How the stream ended.
    pub(crate) fn next_samples(&mut self) -> Result<Vec<f32>, StreamEnd> {
        if let Some(first) = self.first.take() {
            return Ok(first);
        }
        let (spec, samples) = self.packet()?;
        if spec != self.spec {
            return Err(StreamEnd::FormatChanged(format!(
                "the stream changed format mid-stream, from {} Hz {} ch to {} Hz {} ch",
                self.spec.1, self.spec.0, spec.1, spec.0
            )));
        }
        Ok(samples)
    }

    fn packet(&mut self) -> Result<((u16, u32), Vec<f32>), StreamEnd> {
        let mut bad = 0;
        loop {
            let packet = self
                .format
                .next_packet()
                .map_err(|e| end_of(e, self.no_data_after))?;
            if packet.track_id() != self.track {
                continue;
            }
            match self.decoder.decode(&packet) {
                Ok(decoded) => {
                    let spec = *decoded.spec();
                    let need = decoded.capacity() * spec.channels.count();
                    let buf = match &mut self.buf {
                        Some(b) if b.capacity() >= need => b,
                        b => b.insert(SampleBuffer::new(decoded.capacity() as u64, spec)),
                    };
                    buf.copy_interleaved_ref(decoded);
                    if buf.samples().is_empty() {
                        continue;
                    }
                    let ch = spec.channels.count() as u16;
                    return Ok(((ch, spec.rate), buf.samples().to_vec()));
                }
                // The MP3 decoder refuses a frame whose rate or channels
                // differ from the stream's so far.
                Err(SymError::DecodeError(e)) if e.contains("signal spec") => {
                    return Err(StreamEnd::FormatChanged(format!(
                        "the stream changed format mid-stream (it was {} Hz {} ch)",
                        self.spec.1, self.spec.0
                    )));
                }
                Err(SymError::DecodeError(e)) => {
                    bad += 1;
                    if bad >= BAD_PACKETS {
                        return Err(StreamEnd::Undecodable(e.to_string()));
                    }
                }
                Err(e) => return Err(end_of(e, self.no_data_after)),
            }
        }
    }
}

/// How a read error ends the stream.
fn end_of(e: SymError, no_data_after: Duration) -> StreamEnd {
    match e {
        SymError::IoError(io) => match io.kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                StreamEnd::NoData(no_data_after)
            }
            std::io::ErrorKind::UnexpectedEof => {
                StreamEnd::Link("the server closed the connection".into())
            }
            _ if io.get_ref().is_some_and(|e| e.is::<GaveUp>()) => StreamEnd::Link(io.to_string()),
            _ => StreamEnd::Link(format!("the connection broke: {io}")),
        },
        SymError::ResetRequired => {
            StreamEnd::FormatChanged("the stream changed format mid-stream".into())
        }
        other => StreamEnd::Undecodable(other.to_string()),
    }
}

/// `check --sources`: connects once, decodes the first sound and says
/// what it is (`44100 Hz, 2 ch`).
///
/// # Errors
/// Why the source cannot be relayed now.
pub fn probe_http(url: &str, timeout: Duration) -> Result<String, String> {
    let s = RelaySettings {
        connect_timeout: timeout,
        no_data_after: timeout,
        ..RelaySettings::default()
    };
    let mut answer = connect(url, &s)?;
    let kind = answer.content_type.clone().unwrap_or_default();
    let give_up = Instant::now() + timeout * 2;
    answer.body.check = Some(Box::new(move || {
        (Instant::now() > give_up).then(|| {
            format!(
                "no sound in {} s (is it an audio stream?)",
                (timeout * 2).as_secs()
            )
        })
    }));
    let d = Decoded::open(answer, &s).map_err(|e| match e {
        StreamEnd::Link(w) | StreamEnd::FormatChanged(w) | StreamEnd::Undecodable(w) => w,
        StreamEnd::NoData(d) => format!("no data for {} s", d.as_secs()),
        StreamEnd::Silence(w, _) => w,
    })?;
    Ok(format!(
        "{} Hz, {} ch{}",
        d.spec.1,
        d.spec.0,
        if kind.is_empty() {
            String::new()
        } else {
            format!(" ({kind})")
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_split_into_host_port_path() {
        assert_eq!(
            split("http://10.0.0.1:8000/county.mp3").unwrap(),
            ("10.0.0.1:8000".into(), 8000, "/county.mp3".into())
        );
        assert_eq!(
            split("http://radio.example").unwrap(),
            ("radio.example".into(), 80, "/".into())
        );
        assert_eq!(
            split("http://h/a?b=1").unwrap(),
            ("h".into(), 80, "/a?b=1".into())
        );
        assert!(split("http://h:x/").is_err());
        let r = |to: &str| redirected("http://h:8000/live/a/b.mp3?x=1", to);
        assert_eq!(r("c.mp3").unwrap(), "http://h:8000/live/a/c.mp3");
        assert_eq!(r("/c.mp3").unwrap(), "http://h:8000/c.mp3");
        assert_eq!(r("//other/c.mp3").unwrap(), "http://other/c.mp3");
        assert_eq!(r("HTTP://x/y").unwrap(), "HTTP://x/y");
        assert!(r("https://x/y").is_err());
        assert_eq!(redirected("http://h", "c.mp3").unwrap(), "http://h/c.mp3");
        assert!(split("ftp://h/").is_err());
    }
}
