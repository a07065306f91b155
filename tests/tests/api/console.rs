//! The web console in a real browser: sign-in, the SLA board updating
//! itself as a clock breaches, CSV downloads, refusals, sign-out (CSRF).
//! Screenshots for the README come from the SQLite run.

use chrono::{Duration, Utc};

use crate::browser::Browser;
use crate::flow::in_warranty_lifecycle;
use crate::helpers::{as_role, context, receive_request, token, Backend, TestServer};

/// Receives a mail-in ticket dated `hours_ago`: its 24-hour service
/// commitment is breached at once when that is more than 24.
async fn receive_dated(server: &TestServer, id: &str, hours_ago: i64) {
    let mut request = receive_request(id, Some(30));
    let mut ctx = context(id).expect("context");
    let at = Utc::now() - Duration::hours(hours_ago);
    ctx.occurred_at = Some(prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    });
    request.context = Some(ctx);
    server
        .commands()
        .await
        .receive_ticket(as_role("customer_service", request))
        .await
        .expect("ticket received");
}

async fn a_service_manager_watches_a_clock_breach_live_and_downloads_csv(backend: Backend) {
    let server = TestServer::start(backend).await;
    // A repair through to revisit: a failure for FRACAS, costs, KPIs.
    in_warranty_lifecycle(server.commands().await, "con-done-1").await;
    receive_dated(&server, "con-ok-1", 2).await;
    server.caught_up().await;
    let Some(browser) = Browser::open(server.console_addr.expect("console")).await else {
        return;
    };
    // Not signed in: every page sends you to sign in.
    browser.goto("/sla").await;
    browser.wait_for("#token").await;
    browser.sign_in(&token("service_manager")).await;
    browser.wait_for("#clocks").await;
    assert_eq!(browser.text("#breached-count").await, "0 breached");
    assert!(browser.text("#clocks").await.contains("con-ok-1"));
    // A marker the page keeps only as long as it is not reloaded.
    browser
        .client
        .execute("window.__notReloaded = true; return true;", vec![])
        .await
        .expect("mark the page");

    receive_dated(&server, "con-late-1", 30).await;
    browser
        .wait_for("tr.breached[data-ticket=\"con-late-1\"]")
        .await;
    assert_eq!(browser.text("#breached-count").await, "1 breached");
    let kept = browser
        .client
        .execute("return window.__notReloaded === true;", vec![])
        .await
        .expect("read the marker");
    assert_eq!(kept, serde_json::json!(true), "the board reloaded the page");
    if backend == Backend::Sqlite {
        browser.screenshot("sla").await;
    }

    // The CSV link of the board downloads the API's CSV.
    let href = browser
        .client
        .find(fantoccini::Locator::Id("clocks-csv"))
        .await
        .expect("CSV link")
        .attr("href")
        .await
        .expect("href")
        .expect("an href");
    let (status, disposition, body) = browser.fetch(&href).await;
    assert_eq!(status, 200);
    assert_eq!(disposition, "attachment; filename=\"sla-open-clocks.csv\"");
    assert!(body.starts_with("ticket_id,"), "{body}");
    assert!(body.contains("con-late-1"), "{body}");
    // Filters reach the API: only the breached one.
    let (_, _, breached) = browser.fetch("/sla/open-clocks.csv?status=breached").await;
    assert!(
        breached.contains("con-late-1") && !breached.contains("con-ok-1"),
        "{breached}"
    );
    // Bad input is the API's INVALID_ARGUMENT, naming the field.
    let (status, _, body) = browser.fetch("/sla/clocks?status=late").await;
    assert_eq!(status, 400);
    assert!(body.contains("status"), "{body}");

    the_other_pages(&browser, &server, backend).await;

    // Sign-out (a form with the CSRF token) ends the session.
    browser.sign_out().await;
    let (status, _, body) = browser.fetch("/sla/open-clocks.csv").await;
    assert!(
        !body.contains("con-late-1"),
        "signed out, still served: {status}"
    );
    browser.close().await;
    server.stop().await;
}

/// The ticket timeline with its Verify badge and audit export, FRACAS and
/// cost with their charts and CSV, and the live event tail.
async fn the_other_pages(browser: &Browser, server: &TestServer, backend: Backend) {
    browser.goto("/tickets/con-late-1").await;
    browser.wait_for("#verify").await;
    assert_eq!(browser.text("#verify").await, "verified intact");
    let timeline = browser.text("#timeline").await;
    assert!(
        timeline.contains("TicketReceived") && timeline.contains("customer_service"),
        "{timeline}"
    );
    assert!(browser.text("#state").await.contains("con-late-1"));
    if backend == Backend::Sqlite {
        browser.screenshot("ticket").await;
    }
    let (status, disposition, body) = browser.fetch("/tickets/con-late-1/export").await;
    assert_eq!(status, 200);
    assert!(
        disposition.starts_with("attachment; filename="),
        "{disposition}"
    );
    assert!(body.contains("con-late-1"), "{body}");
    let (status, _, _) = browser.fetch("/tickets/no-such-ticket").await;
    assert_eq!(status, 404);

    for (page, csv, header) in [
        (
            "/fracas",
            "/fracas/mode_pareto.csv",
            "failure_mode,failures,",
        ),
        ("/cost", "/cost/billing.csv", ""),
    ] {
        browser.goto(page).await;
        browser.wait_for("section.report svg").await;
        let (status, disposition, body) = browser.fetch(csv).await;
        assert_eq!(status, 200, "{csv}: {body}");
        assert!(disposition.ends_with(".csv\""), "{disposition}");
        assert!(body.starts_with(header), "{csv}: {body}");
        if backend == Backend::Sqlite {
            browser.screenshot(page.trim_start_matches('/')).await;
        }
    }
    // The repair's failure is a bar of the failure-mode Pareto.
    browser.goto("/fracas").await;
    browser.wait_for("#report-mode_pareto svg rect").await;
    let (_, _, modes) = browser.fetch("/fracas/mode_pareto.csv").await;
    assert!(modes.lines().count() > 1, "no failure mode: {modes}");
    let (status, _, _) = browser.fetch("/fracas/no_such_report.csv").await;
    assert_eq!(status, 404);

    browser.goto("/tail").await;
    browser.wait_for("#tail tr").await;
    receive_dated(server, "con-new-1", 1).await;
    browser
        .wait_for("#tail tr td a[href=\"/tickets/con-new-1\"]")
        .await;
    if backend == Backend::Sqlite {
        browser.screenshot("tail").await;
    }
}

async fn a_technician_is_refused_the_pages_of_other_roles(backend: Backend) {
    let server = TestServer::start(backend).await;
    let Some(browser) = Browser::open(server.console_addr.expect("console")).await else {
        return;
    };
    // A token the API does not know signs no one in, with the API's reason.
    browser.goto("/signin").await;
    browser
        .client
        .find(fantoccini::Locator::Id("token"))
        .await
        .expect("token field")
        .send_keys("not-a-token")
        .await
        .expect("type");
    browser
        .client
        .find(fantoccini::Locator::Id("signin"))
        .await
        .expect("button")
        .click()
        .await
        .expect("submit");
    browser.wait_for("#error").await;
    assert_eq!(
        browser.text("#error").await,
        "Not signed in: unknown or revoked token"
    );
    // A page without a session is the sign-in page.
    let (_, _, body) = browser.fetch("/tail").await;
    assert!(
        body.contains("id=\"token\"") && !body.contains("Event tail"),
        "{body}"
    );

    browser.sign_in(&token("technician")).await;
    browser.goto("/sla").await;
    browser.wait_for("#refused").await;
    assert_eq!(browser.text("#refused").await, "Refused");
    let reason = browser.text("#reason").await;
    assert!(
        reason.contains("technician may not call repair.v1.SlaDashboard"),
        "{reason}"
    );
    for path in ["/sla/open-clocks.csv", "/cost", "/fracas", "/tickets/any-1"] {
        let (status, _, _) = browser.fetch(path).await;
        assert_eq!(status, 403, "{path}");
    }
    if backend == Backend::Sqlite {
        browser.screenshot("refused").await;
    }
    browser.close().await;
    server.stop().await;
}

/// A forged form (no CSRF token) is refused and the session stays.
async fn a_form_without_the_csrf_token_is_refused(backend: Backend) {
    let server = TestServer::start(backend).await;
    let Some(browser) = Browser::open(server.console_addr.expect("console")).await else {
        return;
    };
    browser.sign_in(&token("auditor")).await;
    let got = browser
        .client
        .execute(
            "return fetch('/signout', {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded'}, body: 'csrf=forged'}).then(r => r.status);",
            vec![],
        )
        .await
        .expect("post");
    assert_eq!(got, serde_json::json!(403));
    browser.goto("/sla").await;
    browser.wait_for("#clocks").await;
    browser.close().await;
    server.stop().await;
}

crate::on_both_stores!(
    a_service_manager_watches_a_clock_breach_live_and_downloads_csv,
    a_technician_is_refused_the_pages_of_other_roles,
    a_form_without_the_csrf_token_is_refused,
);
