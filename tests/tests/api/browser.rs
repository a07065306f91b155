//! A real headless Chromium driven through chromedriver (WebDriver), for
//! the console tests. Each test gets its own chromedriver on a free port,
//! ended when the test's [`Browser`] is dropped.
//!
//! Without chromedriver the console tests are skipped on a developer's
//! machine (saying so), and FAIL under `CI=true`: CI must run them.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

/// Where the screenshots for the README go.
pub fn screenshot_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/console")
}

pub struct Browser {
    pub client: Client,
    /// `http://127.0.0.1:<console port>`
    pub base: String,
    driver: Child,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn unavailable(why: &str) -> Option<Browser> {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("the console browser tests must run under CI: {why}");
    }
    eprintln!("SKIPPED console browser test: {why} (apt-get install chromium chromium-driver)");
    None
}

impl Browser {
    /// Chromium at 1280×800 pointed at the console on `console`, or `None`
    /// (skip) where chromedriver cannot start outside CI.
    pub async fn open(console: SocketAddr) -> Option<Browser> {
        let port = free_port();
        let driver = match Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(child) => child,
            Err(error) => return unavailable(&format!("cannot start chromedriver: {error}")),
        };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if started.elapsed() > Duration::from_secs(20) {
                return unavailable("chromedriver did not listen within 20 s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,800",
                         "--hide-scrollbars"],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = match ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => client,
            Err(error) => {
                let mut driver = driver;
                let _ = driver.kill();
                let _ = driver.wait();
                return unavailable(&format!("no browser session: {error}"));
            }
        };
        Some(Browser {
            client,
            base: format!("http://{console}"),
            driver,
        })
    }

    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    /// The text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find {css}: {e}"))
            .text()
            .await
            .expect("text")
    }

    /// Waits (at most 20 s) for an element matching `css`.
    pub async fn wait_for(&self, css: &str) {
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} did not appear: {e}"));
    }

    /// Signs in with a bearer token on the sign-in page.
    pub async fn sign_in(&self, token: &str) {
        self.goto("/signin").await;
        let field = self
            .client
            .find(Locator::Id("token"))
            .await
            .expect("token field");
        field.send_keys(token).await.expect("type the token");
        self.client
            .find(Locator::Id("signin"))
            .await
            .expect("sign-in button")
            .click()
            .await
            .expect("sign in");
        let started = Instant::now();
        loop {
            let url = self.client.current_url().await.expect("url");
            if !url.path().starts_with("/signin") {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "still on the sign-in page"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Signs out with the page's sign-out form (which carries the CSRF
    /// token).
    pub async fn sign_out(&self) {
        self.client
            .find(Locator::Css("form.who button"))
            .await
            .expect("sign-out button")
            .click()
            .await
            .expect("sign out");
        self.wait_for("#token").await;
    }

    /// `fetch(path)` from the page, with the page's cookie: status, the
    /// Content-Disposition header and the body.
    pub async fn fetch(&self, path: &str) -> (u16, String, String) {
        let got = self
            .client
            .execute(
                "return fetch(arguments[0], {credentials: 'same-origin'}).then(r => r.text().then(t => [r.status, r.headers.get('content-disposition') || '', t]));",
                vec![serde_json::json!(path)],
            )
            .await
            .expect("fetch from the page");
        let parts = got.as_array().expect("array");
        (
            u16::try_from(parts[0].as_u64().expect("status")).expect("u16"),
            parts[1].as_str().expect("header").to_owned(),
            parts[2].as_str().expect("body").to_owned(),
        )
    }

    /// Saves the page as docs/console/<name>.png.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("docs/console");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
