//! The product as its users see it: the SPA's release build in headless Chromium, signing in
//! through the local identity provider's page and calling the real API, all on loopback.
//!
//! One test runs the scenarios in sequence: they share the servers and a chromedriver (starting
//! browsers is the expensive part on a 2-core machine), and the order is the story of one day
//! (the Admin deletes the task the Editor created). Each step is named in its failure message and
//! leaves a screenshot and the browser's console log in `target/e2e/` when it fails; the
//! dashboards of every role are kept there as PNGs on success too. A Content-Security-Policy
//! violation in the console fails the step it happened in.

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use dev_identity::User;
use e2e::{
    Browser, ChromeDriver, Context, Failure, Outcome, Stack, StackOptions, button, dist_dir,
    missing_prerequisites, xpath_literal,
};
use serde_json::{Value, json};

/// No step may take longer than this, whatever it waits for.
const STEP_LIMIT: Duration = Duration::from_secs(120);
/// The shortest access-token lifetime dev-identity issues.
const SHORT_TOKEN_LIFETIME: Duration = Duration::from_secs(5);

const EDITOR_TASK: &str = "Draft the release notes";
const READER_TASK: &str = "Read the security review";
const AFTER_EXPIRY_TASK: &str = "Added after the token expired";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_in_a_real_browser() {
    let dist = dist_dir();
    let missing = missing_prerequisites(&dist);
    assert!(missing.is_empty(), "{}", missing.join("\n"));
    let run = Run::start().await;
    let started = Instant::now();

    let stack = Stack::start(&dist, StackOptions::default())
        .await
        .unwrap_or_else(|failure| panic!("starting the servers: {failure}"));
    let admin = user(&stack, "admin");
    let editor = user(&stack, "editor");
    let reader = user(&stack, "reader");
    let guest = user(&stack, "guest");

    let mut editors = run.browser("editor's browser", &stack).await;
    run.step(
        "self-test: a deliberate CSP violation is caught",
        &mut editors,
        async |b| csp_violation_is_caught(b).await,
    )
    .await;
    run.step(
        "self-test: a deliberate accessibility violation is caught",
        &mut editors,
        async |b| axe_violation_is_caught(b).await,
    )
    .await;
    run.step(
        "deep link to /dashboard while signed out",
        &mut editors,
        async |b| deep_link_signed_out(b).await,
    )
    .await;
    run.step("Editor signs in from /dashboard", &mut editors, async |b| {
        sign_in(b, editor, "/dashboard").await?;
        dashboard_shows(b, editor, "Editor", "My Tasks").await
    })
    .await;
    run.step(
        "Editor adds a task, toggles it, cannot delete",
        &mut editors,
        async |b| {
            editor_manages_own_task(b).await?;
            b.screenshot("dashboard-editor").await.map(drop)
        },
    )
    .await;
    run.step("a reload keeps the session", &mut editors, async |b| {
        reload_keeps_session(b, editor).await
    })
    .await;

    let mut readers = run.browser("reader's browser", &stack).await;
    run.step(
        "a new browser context starts signed out",
        &mut readers,
        async |b| {
            deep_link_signed_out(b).await?;
            ensure_no_session(b, &stack).await
        },
    )
    .await;
    stack
        .api
        .seed(reader, READER_TASK)
        .await
        .unwrap_or_else(|failure| panic!("seeding the Reader's task: {failure}"));
    run.step(
        "Reader signs in from the home page and reads",
        &mut readers,
        async |b| {
            sign_in(b, reader, "/").await?;
            b.wait_for_element(
                "the link \"Go to your dashboard\"",
                "//a[normalize-space(.)='Go to your dashboard']",
            )
            .await?;
            click_link(b, "Dashboard").await?;
            b.wait_for_path("/dashboard").await?;
            dashboard_shows(b, reader, "Reader", "My Tasks").await?;
            reader_only_reads(b).await?;
            b.screenshot("dashboard-reader").await.map(drop)
        },
    )
    .await;
    run.close(readers).await;

    run.step(
        "Editor signs out; Back shows no stale data",
        &mut editors,
        async |b| sign_out_and_go_back(b, &stack, editor).await,
    )
    .await;
    run.close(editors).await;

    let mut admins = run.browser("admin's browser", &stack).await;
    run.step(
        "Admin sees all tasks with owners and deletes the Editor's",
        &mut admins,
        async |b| {
            sign_in(b, admin, "/dashboard").await?;
            dashboard_shows(b, admin, "Admin", "All Tasks").await?;
            tasks_with_owners(b, editor, reader).await?;
            b.screenshot("dashboard-admin").await?;
            phone_shows_the_first_task_above_the_fold(b, "dashboard-admin-phone").await?;
            admin_deletes_editors_task(b).await
        },
    )
    .await;
    run.close(admins).await;

    let mut guests = run.browser("guest's browser", &stack).await;
    run.step(
        "Guest without a role gets a clear message",
        &mut guests,
        async |b| {
            sign_in(b, guest, "/dashboard").await?;
            guest_has_no_role(b, guest).await?;
            no_permission_is_shown_as_granted(b).await?;
            b.screenshot("dashboard-guest").await.map(drop)
        },
    )
    .await;
    run.close(guests).await;
    drop(stack);

    // On servers of their own: short-lived access tokens (every scenario above used Entra's
    // default of one hour), and an authority whose OpenID configuration names endpoints that are
    // not at Entra's paths, so every sign-in and renewal below goes through discovery.
    let mut stack = Stack::start(
        &dist,
        StackOptions {
            access_token_lifetime: SHORT_TOKEN_LIFETIME,
            other_paths: true,
        },
    )
    .await
    .unwrap_or_else(|failure| panic!("starting the short-token servers: {failure}"));
    let editor = user(&stack, "editor");
    let mut renewing = run.browser("short-token browser", &stack).await;
    run.step(
        "sign-in through an authority with other paths, found by discovery",
        &mut renewing,
        async |b| {
            sign_in(b, editor, "/dashboard").await?;
            dashboard_shows(b, editor, "Editor", "My Tasks").await?;
            signed_in_through_discovery(&stack)
        },
    )
    .await;
    run.step(
        "an expired access token is renewed silently",
        &mut renewing,
        async |b| token_expiry_renews_silently(b, &stack).await,
    )
    .await;
    stack
        .api
        .stop()
        .await
        .unwrap_or_else(|failure| panic!("stopping the API: {failure}"));
    run.step(
        "a failed Add: one alert, the list and the typed title kept",
        &mut renewing,
        async |b| failed_add_keeps_the_list(b).await,
    )
    .await;
    run.step(
        "the API unavailable: an error state, then Try again",
        &mut renewing,
        async |b| {
            b.reload().await?;
            api_unavailable_shows_error(b).await?;
            stack.api.restart().await?;
            b.click_button("Try again").await?;
            b.wait_for_element("the tasks after Try again", &task_row(AFTER_EXPIRY_TASK))
                .await
                .map(drop)
        },
    )
    .await;
    run.close(renewing).await;

    eprintln!(
        "e2e: every scenario passed in {:.1} s; artefacts in {}",
        started.elapsed().as_secs_f64(),
        run.artefacts.display()
    );
}

/// The chromedriver of this run and where its artefacts go.
struct Run {
    driver: ChromeDriver,
    artefacts: PathBuf,
}

impl Run {
    async fn start() -> Self {
        // `target/e2e`: next to the `tmp` folder cargo gives integration tests.
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let artefacts = tmp.parent().unwrap_or(tmp).join("e2e");
        clear_artefacts(&artefacts);
        let driver = ChromeDriver::start()
            .await
            .unwrap_or_else(|failure| panic!("{failure}"));
        Self { driver, artefacts }
    }

    async fn browser(&self, name: &str, stack: &Stack) -> Browser {
        self.driver
            .open(name, &stack.site_origin(), &self.artefacts)
            .await
            .unwrap_or_else(|failure| panic!("{failure}"))
    }

    /// Runs one scenario step with a time limit, then checks the console for CSP violations. On
    /// failure, keeps the evidence and fails the test naming the step.
    async fn step(
        &self,
        name: &str,
        browser: &mut Browser,
        scenario: impl AsyncFnOnce(&mut Browser) -> Outcome,
    ) {
        let started = Instant::now();
        let outcome = match tokio::time::timeout(STEP_LIMIT, scenario(browser)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Failure::new(format!("not finished after {STEP_LIMIT:?}"))),
        };
        let outcome = match outcome {
            Ok(()) => browser.check_console().await,
            failed => failed,
        };
        if let Err(failure) = outcome {
            // A blocked request often explains the failure (a wait that never ended): say so.
            let csp = match browser.check_console().await {
                Err(violations) => format!("\n{violations}"),
                Ok(()) => String::new(),
            };
            let kept = browser
                .keep_evidence(&format!("failed-{}", slug(name)))
                .await;
            panic!(
                "e2e step {name:?} failed in {}: {failure}{csp}\nkept: {kept:?}",
                browser.name()
            );
        }
        eprintln!(
            "e2e: ok   {name} ({:.1} s)",
            started.elapsed().as_secs_f64()
        );
    }

    async fn close(&self, browser: Browser) {
        browser
            .close()
            .await
            .unwrap_or_else(|failure| panic!("{failure}"));
    }
}

/// Removes the screenshots and logs of an earlier run, so every file there is from this one.
fn clear_artefacts(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let ours = path
            .extension()
            .is_some_and(|ext| ext == "png" || ext == "log");
        if ours {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn slug(name: &str) -> String {
    let words: Vec<String> = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    words.join("-")
}

fn user<'a>(stack: &'a Stack, name: &str) -> &'a User {
    stack
        .user(name)
        .unwrap_or_else(|failure| panic!("{failure}"))
}

/// The list item of a task, by its title.
fn task_row(title: &str) -> String {
    format!(
        "//li[contains(@class,'task')][.//span[contains(@class,'task-title') and normalize-space(.)={}]]",
        xpath_literal(title)
    )
}

/// The list item of a task the list shows as completed.
fn done_row(title: &str) -> String {
    format!(
        "{}[contains(concat(' ', @class, ' '), ' done ')]",
        task_row(title)
    )
}

async fn click_link(b: &Browser, text: &str) -> Outcome {
    let xpath = format!("//a[normalize-space(.)={}]", xpath_literal(text));
    let link = b
        .wait_for_element(&format!("the link {text:?}"), &xpath)
        .await?;
    Ok(link.click().await?)
}

/// A fetch to an origin the CSP does not list must show up as a violation, or the console check
/// that every step relies on would pass whatever happened.
async fn csp_violation_is_caught(b: &mut Browser) -> Outcome {
    b.open("/").await?;
    b.wait_for_text("Sign in with Entra ID").await?;
    b.check_console().await?;
    b.run(
        "fetch('http://127.0.0.1:9/not-allowed').catch(() => {})",
        vec![],
    )
    .await?;
    let deadline = Instant::now() + e2e::WAIT;
    loop {
        match b.check_console().await {
            Err(failure) if failure.to_string().contains("127.0.0.1:9/not-allowed") => {
                return Ok(());
            }
            Err(other) => return Err(other),
            Ok(()) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(()) => {
                return Err(Failure::new(
                    "a fetch blocked by connect-src did not show up as a CSP violation",
                ));
            }
        }
    }
}

/// An image without a text alternative must fail the axe-core audit, or the audit every wait runs
/// would pass whatever the page showed.
async fn axe_violation_is_caught(b: &Browser) -> Outcome {
    b.open("/").await?;
    b.wait_for_text("Sign in with Entra ID").await?;
    b.run(
        "const image = document.createElement('img');
         image.id = 'e2e-no-alt';
         image.src = 'data:image/gif;base64,R0lGODlhAQABAAAAACw=';
         document.body.append(image);",
        vec![],
    )
    .await?;
    let failure = b
        .check_accessibility()
        .await
        .err()
        .ok_or_else(|| Failure::new("an image without a text alternative passed axe-core"))?;
    e2e::ensure!(
        failure.to_string().contains("image-alt (critical)"),
        "axe-core did not report the image as image-alt: {failure}"
    );
    b.run("document.getElementById('e2e-no-alt').remove()", vec![])
        .await
        .map(drop)
}

/// `/dashboard` opened directly: the static server falls back to the app, which offers sign-in.
async fn deep_link_signed_out(b: &Browser) -> Outcome {
    b.open("/dashboard").await?;
    b.wait_for_element(
        "the heading \"Sign in required\"",
        "//h2[normalize-space(.)='Sign in required']",
    )
    .await?;
    b.wait_for_element(
        "the heading \"Dashboard\"",
        "//h1[normalize-space(.)='Dashboard']",
    )
    .await?;
    b.wait_for_element("a \"Sign in\" button", &button("Sign in"))
        .await?;
    e2e::ensure!(
        !b.exists("//*[contains(@class,'user-name')]").await?,
        "a signed-out page shows a user name"
    );
    Ok(())
}

/// Nothing of the app's session in this tab.
async fn ensure_no_session(b: &Browser, stack: &Stack) -> Outcome {
    for entry in ["account", "access_token", "refresh_token"] {
        e2e::ensure!(
            b.session_item(&stack.cache_key(entry)).await?.is_none(),
            "sessionStorage still holds the {entry}"
        );
    }
    Ok(())
}

/// Opens `path` signed out and signs in from there through the provider's page: "Sign in", then
/// the user's button on the provider's list, then back on `path` with the user's name in the navbar.
async fn sign_in(b: &Browser, user: &User, path: &str) -> Outcome {
    b.open(path).await?;
    b.click_button("Sign in").await?;
    let choice = format!(
        "//button[@type='submit'][.//*[contains(@class,'name') and normalize-space(.)={}]]",
        xpath_literal(user.display_name())
    );
    let choice = b
        .wait_for_element(
            "the provider's sign-in page listing the test users",
            &choice,
        )
        .await?;
    choice.click().await.context("choosing the test user")?;
    b.wait_for_path(path).await?;
    let name = format!(
        "//header//*[contains(@class,'user-name') and normalize-space(.)={}]",
        xpath_literal(user.display_name())
    );
    b.wait_for_element("the user's name in the navigation bar", &name)
        .await
        .map(drop)
}

/// The dashboard of a signed-in user: name, role badge, and the tasks card's title.
async fn dashboard_shows(b: &Browser, user: &User, role: &str, tasks_title: &str) -> Outcome {
    let profile = format!(
        "//section[contains(@class,'profile')]//h2[normalize-space(.)={}]",
        xpath_literal(user.display_name())
    );
    b.wait_for_element("the profile card", &profile).await?;
    let badge = format!(
        "//span[contains(@class,'badge') and contains(@class,'role-{}') and normalize-space(.)={}]",
        role.to_ascii_lowercase(),
        xpath_literal(role)
    );
    b.wait_for_element(&format!("the {role} role badge"), &badge)
        .await?;
    let heading = format!(
        "//h2[@id='tasks-title' and normalize-space(.)={}]",
        xpath_literal(tasks_title)
    );
    b.wait_for_element(&format!("the {tasks_title:?} card"), &heading)
        .await?;
    // The list (or its empty state) has loaded.
    b.wait_for("the tasks to load", || async {
        Ok((!b.text().await?.contains("Loading tasks…")).then_some(()))
    })
    .await
}

const NEW_TASK_INPUT: &str = "//input[@id=//label[normalize-space(.)='New task']/@for]";

fn checkbox_of(title: &str) -> String {
    format!(
        "//input[@type='checkbox' and @aria-label={}]",
        xpath_literal(&format!("Mark {title} complete"))
    )
}

/// The notice a failed API call leaves on the page.
const ERROR_NOTICE: &str = "//*[contains(@class,'notice') and contains(@class,'error')]";

const ANY_DELETE: &str =
    "//button[normalize-space(.)='Delete' or starts-with(@aria-label,'Delete ')]";

async fn editor_manages_own_task(b: &Browser) -> Outcome {
    b.wait_for_text("No tasks yet.").await?;
    let input = b
        .wait_for_element("the \"New task\" field", NEW_TASK_INPUT)
        .await?;
    input.send_keys(EDITOR_TASK).await?;
    b.click_button("Add").await?;
    b.wait_for_element("the new task in the list", &task_row(EDITOR_TASK))
        .await?;
    let checkbox = b
        .wait_for_element("the task's checkbox", &checkbox_of(EDITOR_TASK))
        .await?;
    e2e::ensure!(
        !checkbox.is_selected().await?,
        "a new task is already complete"
    );
    checkbox.click().await?;
    // `done` comes from the list reloaded from the API after the change, not from the click.
    let done = done_row(EDITOR_TASK);
    b.wait_for_element("the task marked done by the API", &done)
        .await?;
    e2e::ensure!(
        b.find_all(&checkbox_of(EDITOR_TASK)).await?.len() == 1,
        "the task is listed once"
    );
    e2e::ensure!(!b.exists(ANY_DELETE).await?, "an Editor is offered Delete");
    Ok(())
}

async fn reload_keeps_session(b: &Browser, editor: &User) -> Outcome {
    b.reload().await?;
    b.wait_for_path("/dashboard").await?;
    dashboard_shows(b, editor, "Editor", "My Tasks").await?;
    let done = done_row(EDITOR_TASK);
    b.wait_for_element("the completed task after the reload", &done)
        .await?;
    let checkbox = b
        .wait_for_element("the task's checkbox", &checkbox_of(EDITOR_TASK))
        .await?;
    e2e::ensure!(
        checkbox.is_selected().await?,
        "the checkbox lost its state on reload"
    );
    Ok(())
}

async fn reader_only_reads(b: &Browser) -> Outcome {
    let row = task_row(READER_TASK);
    b.wait_for_element("the Reader's task", &row).await?;
    let status = format!("{row}//span[contains(@class,'status') and normalize-space(.)='○ Open']");
    b.wait_for_element("the task's status \"○ Open\"", &status)
        .await?;
    e2e::ensure!(
        !b.exists(NEW_TASK_INPUT).await?,
        "a Reader sees the \"New task\" field"
    );
    e2e::ensure!(!b.exists(&button("Add")).await?, "a Reader sees \"Add\"");
    e2e::ensure!(
        !b.exists("//input[@type='checkbox']").await?,
        "a Reader sees a checkbox"
    );
    e2e::ensure!(!b.exists(ANY_DELETE).await?, "a Reader is offered Delete");
    e2e::ensure!(
        !b.exists(&task_row(EDITOR_TASK)).await?,
        "a Reader sees the Editor's task"
    );
    Ok(())
}

async fn sign_out_and_go_back(b: &Browser, stack: &Stack, editor: &User) -> Outcome {
    b.click_button("Sign out").await?;
    b.wait_for_path("/").await?;
    b.wait_for_element("a \"Sign in\" button", &button("Sign in"))
        .await?;
    e2e::ensure!(
        !b.exists("//*[contains(@class,'user-name')]").await?,
        "the user's name is still shown after signing out"
    );
    ensure_no_session(b, stack).await?;

    b.back().await?;
    b.wait_for_path("/dashboard").await?;
    b.wait_for_element(
        "the heading \"Sign in required\"",
        "//h2[normalize-space(.)='Sign in required']",
    )
    .await?;
    let text = b.text().await?;
    for stale in [EDITOR_TASK, editor.display_name(), editor.username()] {
        e2e::ensure!(
            !text.contains(stale),
            "{stale:?} still shown after signing out"
        );
    }
    e2e::ensure!(
        !b.exists("//*[@role='alert' and normalize-space(.)!='']")
            .await?,
        "an error is shown after signing out:\n{text}"
    );
    // The provider's session ended too: signing in asks who again instead of signing the Editor
    // straight back in.
    b.click_button("Sign in").await?;
    b.wait_for_element(
        "the provider's list of test users",
        &format!(
            "//button[@type='submit'][.//*[normalize-space(.)={}]]",
            xpath_literal(editor.display_name())
        ),
    )
    .await
    .map(drop)
}

/// Every task, each with its owner's name.
async fn tasks_with_owners(b: &Browser, editor: &User, reader: &User) -> Outcome {
    for (title, owner) in [(EDITOR_TASK, editor), (READER_TASK, reader)] {
        let owner_badge = format!(
            "{}//span[contains(@class,'owner') and contains(normalize-space(.), {})]",
            task_row(title),
            xpath_literal(owner.display_name())
        );
        b.wait_for_element(&format!("{title:?} with its owner"), &owner_badge)
            .await?;
    }
    Ok(())
}

/// On a phone (390×844), the tasks come first: the first task is on screen without scrolling,
/// and its Delete sits on its line.
async fn phone_shows_the_first_task_above_the_fold(b: &Browser, screenshot: &str) -> Outcome {
    b.set_viewport(390, 844).await?;
    b.reload().await?;
    let first = "(//li[contains(@class,'task')])[1]";
    b.wait_for_element("the first task on a phone", first)
        .await?;
    b.check_accessibility().await?;
    let layout = b
        .run(
            "const row = document.evaluate(arguments[0], document, null, 9, null).singleNodeValue;
             const box = row.getBoundingClientRect();
             const remove = row.querySelector('button');
             return { bottom: box.bottom, viewport: window.innerHeight, width: window.innerWidth,
                      rowTop: box.top, rowBottom: box.bottom,
                      buttonTop: remove ? remove.getBoundingClientRect().top : box.top };",
            vec![json!(first)],
        )
        .await?;
    b.screenshot(screenshot).await?;
    let number = |key: &str| layout[key].as_f64().unwrap_or(f64::NAN);
    e2e::ensure!(
        number("width") <= 390.0,
        "the viewport is not a phone's: {layout}"
    );
    e2e::ensure!(
        number("bottom") <= number("viewport"),
        "the first task is below the fold on a phone: {layout}"
    );
    e2e::ensure!(
        number("buttonTop") < number("rowBottom") && number("buttonTop") >= number("rowTop"),
        "Delete is not on the task's line: {layout}"
    );
    b.set_viewport(1280, 900).await?;
    b.reload().await
}

/// Delete asks first; the second press on the same button deletes.
async fn admin_deletes_editors_task(b: &Browser) -> Outcome {
    b.wait_for_element("the Editor's task", &task_row(EDITOR_TASK))
        .await?;
    b.click_button(&format!("Delete {EDITOR_TASK}")).await?;
    b.wait_for_element(
        "the confirmation",
        &button(&format!("Confirm: delete {EDITOR_TASK}")),
    )
    .await?;
    e2e::ensure!(
        b.exists(&task_row(EDITOR_TASK)).await?,
        "the task went before the delete was confirmed"
    );
    b.check_accessibility().await?;
    b.click_button(&format!("Confirm: delete {EDITOR_TASK}"))
        .await?;
    b.wait_for("the Editor's task to disappear", || async {
        Ok((!b.exists(&task_row(EDITOR_TASK)).await?).then_some(()))
    })
    .await?;
    // Gone from the API, not only from the page.
    b.reload().await?;
    b.wait_for_element("the Reader's task after a reload", &task_row(READER_TASK))
        .await?;
    e2e::ensure!(
        !b.exists(&task_row(EDITOR_TASK)).await?,
        "the deleted task is back after a reload"
    );
    Ok(())
}

async fn guest_has_no_role(b: &Browser, guest: &User) -> Outcome {
    let profile = format!(
        "//section[contains(@class,'profile')]//h2[normalize-space(.)={}]",
        xpath_literal(guest.display_name())
    );
    b.wait_for_element("the profile card", &profile).await?;
    b.wait_for_element(
        "\"No role assigned\" in the profile",
        "//section[contains(@class,'profile')]//dd[normalize-space(.)='No role assigned']",
    )
    .await?;
    b.wait_for_element(
        "the tasks card's explanation",
        "//section[contains(@class,'tasks')]//*[contains(normalize-space(.), 'Your account can sign in, but it has no role in this app')]",
    )
    .await?;
    e2e::ensure!(
        !b.exists(ERROR_NOTICE).await?,
        "a Guest sees an error:\n{}",
        b.text().await?
    );
    e2e::ensure!(
        !b.exists(NEW_TASK_INPUT).await?,
        "a Guest sees the \"New task\" field"
    );
    Ok(())
}

/// What a user with no role may do, as the Access list shows it: nothing, as the API allows.
async fn no_permission_is_shown_as_granted(b: &Browser) -> Outcome {
    let rows = "//ul[contains(@class,'rbac')]/li";
    b.wait_for_element("the Access list", rows).await?;
    let read = format!("{rows}[@data-permission='Read']");
    e2e::ensure!(
        b.exists(&format!("{read}[@data-granted='false']")).await?,
        "\"Read\" is not shown as not allowed"
    );
    let granted = b
        .run(
            "return [...document.querySelectorAll('.rbac li.granted')].map(li => li.innerText)",
            vec![],
        )
        .await?;
    e2e::ensure!(
        granted == json!([]),
        "a user with no role is shown permissions: {granted}"
    );
    e2e::ensure!(
        !b.text().await?.contains("✓"),
        "a ✓ is shown to a user with no role"
    );
    Ok(())
}

/// The access token as the SPA caches it: `{"token", "expires_at"}`.
async fn cached_access_token(b: &Browser, stack: &Stack) -> Outcome<Value> {
    let raw = b
        .session_item(&stack.cache_key("access_token"))
        .await?
        .ok_or_else(|| Failure::new("no access token in sessionStorage"))?;
    Ok(serde_json::from_str(&raw)?)
}

/// The tokens the SPA holds before an API call, to tell afterwards whether it renewed them.
struct Tokens {
    access: Value,
    refresh: Option<String>,
}

impl Tokens {
    async fn read(b: &Browser, stack: &Stack) -> Outcome<Self> {
        let tokens = Self {
            access: cached_access_token(b, stack).await?,
            refresh: b.session_item(&stack.cache_key("refresh_token")).await?,
        };
        e2e::ensure!(
            tokens.refresh.is_some(),
            "no refresh token in sessionStorage"
        );
        Ok(tokens)
    }

    /// The access token's value, as the API receives it.
    fn access_token(&self) -> &str {
        self.access["token"].as_str().unwrap_or_default()
    }

    /// After an API call that succeeded: both tokens were replaced through the refresh-token
    /// grant (each use rotates the refresh token), with no error and no page load.
    async fn renewed_silently(&self, b: &Browser, stack: &Stack) -> Outcome {
        e2e::ensure!(
            !b.exists(ERROR_NOTICE).await?,
            "an error after the token expired:\n{}",
            b.text().await?
        );
        let after = Self::read(b, stack).await?;
        e2e::ensure!(
            after.access_token() != self.access_token(),
            "the access token was not renewed"
        );
        e2e::ensure!(
            after.refresh != self.refresh,
            "the refresh token was not used (each use rotates it)"
        );
        let same_document = b
            .run("return window.e2eSameDocument === true", vec![])
            .await?;
        e2e::ensure!(
            same_document == json!(true),
            "the page was reloaded: an interactive sign-in instead of a silent renewal"
        );
        let url = b.url().await?;
        e2e::ensure!(
            url.path() == "/dashboard",
            "the browser left the dashboard: {url}"
        );
        Ok(())
    }
}

/// The API's answer to `GET /api/me` with this access token.
async fn api_status_with(stack: &Stack, access_token: &str) -> Outcome<reqwest::StatusCode> {
    Ok(reqwest::Client::new()
        .get(format!("{}/api/me", stack.api.origin()))
        .bearer_auth(access_token)
        .timeout(e2e::WAIT)
        .send()
        .await?
        .status())
}

/// Two ways an access token runs out under a signed-in user, both renewed with the refresh token
/// without the user noticing:
/// - the SPA knows it expired: the cached token is past its expiry, so the next call renews it
///   first (with a 5-second lifetime, below the SPA's 5-minute renewal margin, that is every call);
/// - the SPA believes it valid (the browser's clock behind the API's): the API answers 401, and the
///   SPA renews and sends the call again, once.
async fn token_expiry_renews_silently(b: &Browser, stack: &Stack) -> Outcome {
    let before = Tokens::read(b, stack).await?;
    // A full page load (an interactive sign-in) would lose this.
    b.run("window.e2eSameDocument = true", vec![]).await?;

    let expires_at = before.access["expires_at"]
        .as_f64()
        .ok_or_else(|| Failure::new("the cached access token has no expires_at"))?;
    let now = b
        .run("return Date.now() / 1000", vec![])
        .await?
        .as_f64()
        .unwrap_or_default();
    let wait = (expires_at + 1.0 - now).clamp(0.0, 30.0);
    tokio::time::sleep(Duration::from_secs_f64(wait)).await;
    let status = api_status_with(stack, before.access_token()).await?;
    e2e::ensure!(
        status == 401,
        "the API accepted the expired access token ({status})"
    );

    let input = b
        .wait_for_element("the \"New task\" field", NEW_TASK_INPUT)
        .await?;
    input.send_keys(AFTER_EXPIRY_TASK).await?;
    b.click_button("Add").await?;
    b.wait_for_element("the task added after expiry", &task_row(AFTER_EXPIRY_TASK))
        .await?;
    before.renewed_silently(b, stack).await?;

    // The expired token back in the cache, claimed valid for another hour.
    let stale = json!({ "token": before.access_token(), "expires_at": now + 3600.0 });
    b.run(
        "sessionStorage.setItem(arguments[0], JSON.stringify(arguments[1]))",
        vec![json!(stack.cache_key("access_token")), stale],
    )
    .await?;
    let believed = Tokens::read(b, stack).await?;
    e2e::ensure!(
        believed.access_token() == before.access_token(),
        "the SPA's cache did not take the expired token"
    );
    let checkbox = b
        .wait_for_element("the task's checkbox", &checkbox_of(AFTER_EXPIRY_TASK))
        .await?;
    checkbox.click().await?;
    let done = done_row(AFTER_EXPIRY_TASK);
    b.wait_for_element("the task marked done after the API's 401", &done)
        .await?;
    believed.renewed_silently(b, stack).await
}

/// The SPA found every endpoint through the authority's OpenID configuration: the stand-in was
/// asked for its document and its token endpoint, never for Entra's paths.
fn signed_in_through_discovery(stack: &Stack) -> Outcome {
    let other_paths = stack
        .other_paths
        .as_ref()
        .ok_or_else(|| Failure::new("this stack has no authority with other paths"))?;
    let asked = other_paths.asked();
    for path in [
        "/idp/.well-known/openid-configuration",
        "/idp/authorize",
        "/idp/token",
    ] {
        e2e::ensure!(
            asked.iter().any(|asked| asked == path),
            "the SPA did not use {path}; the stand-in was asked for {asked:?}"
        );
    }
    e2e::ensure!(
        asked
            .iter()
            .filter(|asked| asked.ends_with("openid-configuration"))
            .count()
            <= 2,
        "the configuration was read more than once per page load: {asked:?}"
    );
    Ok(())
}

/// With the API down, Add fails: one alert that says so in words, the list as it was, and the
/// title still in the field to try again.
async fn failed_add_keeps_the_list(b: &Browser) -> Outcome {
    const TITLE: &str = "Added while the API is down";
    b.wait_for_element("the tasks", &task_row(AFTER_EXPIRY_TASK))
        .await?;
    let input = b
        .wait_for_element("the \"New task\" field", NEW_TASK_INPUT)
        .await?;
    input.send_keys(TITLE).await?;
    b.click_button("Add").await?;
    b.wait_for_element("an error notice", ERROR_NOTICE).await?;
    // Any second alert would have come with the first.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let alerts = b
        .find_all("//*[@role='alert' and normalize-space(.)!='']")
        .await?;
    e2e::ensure!(
        alerts.len() == 1,
        "{} alerts for one failure:\n{}",
        alerts.len(),
        b.text().await?
    );
    let message = alerts[0].text().await?;
    e2e::ensure!(
        message.contains("could not be reached") && !message.contains("apiBaseUrl"),
        "the alert is not written for the person using the app: {message:?}"
    );
    e2e::ensure!(
        b.exists(&task_row(AFTER_EXPIRY_TASK)).await?,
        "the list disappeared when Add failed"
    );
    let kept = b
        .wait_for_element("the \"New task\" field", NEW_TASK_INPUT)
        .await?
        .prop("value")
        .await?;
    e2e::ensure!(
        kept.as_deref() == Some(TITLE),
        "the typed title was lost: {kept:?}"
    );
    b.check_accessibility().await?;
    b.screenshot("add-fails-api-down").await.map(drop)
}

async fn api_unavailable_shows_error(b: &Browser) -> Outcome {
    b.wait_for_path("/dashboard").await?;
    let alert = b
        .wait_for_element(
            "an error notice with \"Try again\"",
            "//*[@role='alert' and contains(@class,'error')][.//button[normalize-space(.)='Try again']]",
        )
        .await?;
    let message = alert.text().await?;
    e2e::ensure!(
        message.trim().len() > "Try again".len(),
        "the error notice does not say what went wrong: {message:?}"
    );
    b.wait_for_element(
        "the heading \"Dashboard\"",
        "//h1[normalize-space(.)='Dashboard']",
    )
    .await?;
    b.screenshot("dashboard-api-unavailable").await.map(drop)
}
