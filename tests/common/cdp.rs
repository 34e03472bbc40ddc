//! A small Chrome DevTools Protocol driver for Debian's headless
//! Chromium: navigate, evaluate, click, choose a file for an upload input,
//! take screenshots at a screen size. Only what the operator-page tests
//! need; events are read and ignored.

use serde_json::{json, Value};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

pub struct Browser {
    child: Child,
    _profile: tempfile::TempDir,
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    next: u64,
}

fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("chromium"), PathBuf::from)
}

impl Browser {
    /// Starts headless Chromium with its own profile and connects to its
    /// first page.
    pub fn launch() -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let child = Command::new(chromium())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                "--remote-debugging-port=0",
                "--window-size=1366,768",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .env_remove("XDG_RUNTIME_DIR")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "Debian's chromium is needed: apt-get install chromium (./dev test installs it)",
            );
        let port_file = profile.path().join("DevToolsActivePort");
        let deadline = Instant::now() + Duration::from_secs(30);
        let port = loop {
            if let Some(p) = std::fs::read_to_string(&port_file)
                .ok()
                .and_then(|s| s.lines().next().map(str::to_string))
                .filter(|p| !p.is_empty())
            {
                break p;
            }
            assert!(
                Instant::now() < deadline,
                "chromium never opened its debugging port"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        let list: Value = ureq::get(&format!("http://127.0.0.1:{port}/json/list"))
            .call()
            .expect("chromium's target list")
            .body_mut()
            .read_json()
            .unwrap();
        let ws_url = list
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["type"] == "page")
            .and_then(|t| t["webSocketDebuggerUrl"].as_str())
            .expect("a page target")
            .to_string();
        let (ws, _) = tungstenite::connect(ws_url).expect("connect to the page");
        let mut b = Browser {
            child,
            _profile: profile,
            ws,
            next: 0,
        };
        b.call("Page.enable", json!({}));
        b
    }

    /// Sends one command and waits for its answer.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let msg = json!({ "id": id, "method": method, "params": params });
        self.ws.send(Message::text(msg.to_string())).unwrap();
        loop {
            let m = self.ws.read().expect("chromium's answer");
            let Message::Text(t) = m else { continue };
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{method}: {v}");
                return v["result"].clone();
            }
        }
    }

    /// A script's value (promises awaited).
    pub fn eval(&mut self, js: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({ "expression": js, "returnByValue": true, "awaitPromise": true }),
        );
        assert!(r.get("exceptionDetails").is_none(), "{js}: {r}");
        r["result"]["value"].clone()
    }

    /// Polls `js` until it is true.
    pub fn wait_for(&mut self, what: &str, js: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while self.eval(js) != Value::Bool(true) {
            if Instant::now() >= deadline {
                let body = self.eval("document.body ? document.body.innerText : ''");
                panic!("timed out waiting for {what}\npage:\n{body}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Opens `url` and waits for it to load.
    pub fn goto(&mut self, url: &str) {
        self.call("Page.navigate", json!({ "url": url }));
        self.wait_for(
            url,
            &format!(
                "location.href.startsWith({}) && document.readyState === 'complete'",
                json!(url)
            ),
            30,
        );
    }

    /// Runs `js` (a click, a submit) that leaves the page, and waits for
    /// the next page to load.
    pub fn leave_with(&mut self, js: &str) {
        self.eval("window.__old_page = true");
        self.eval(js);
        self.wait_for(
            "the next page",
            "window.__old_page === undefined && document.readyState === 'complete'",
            60,
        );
    }

    /// Chooses `file` in the file input `selector`.
    pub fn set_file(&mut self, selector: &str, file: &Path) {
        let doc = self.call("DOM.getDocument", json!({}));
        let root = doc["root"]["nodeId"].clone();
        let node = self.call(
            "DOM.querySelector",
            json!({ "nodeId": root, "selector": selector }),
        );
        assert_ne!(node["nodeId"], 0, "{selector} not in the page");
        self.call(
            "DOM.setFileInputFiles",
            json!({ "files": [file.display().to_string()], "nodeId": node["nodeId"] }),
        );
    }

    /// A screenshot of the page at `width`×`height` CSS pixels (the whole
    /// page when `full`), written to `path`.
    pub fn screenshot(&mut self, path: &Path, width: u32, height: u32, mobile: bool, full: bool) {
        use base64::Engine as _;
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile }),
        );
        let shot = self.call(
            "Page.captureScreenshot",
            json!({ "format": "png", "captureBeyondViewport": full }),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
        self.call("Emulation.clearDeviceMetricsOverride", json!({}));
    }

    /// The page's width that overflows the screen (0: nothing sticks out).
    pub fn overflow_x(&mut self) -> i64 {
        self.eval("document.documentElement.scrollWidth - window.innerWidth")
            .as_i64()
            .unwrap_or(0)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
