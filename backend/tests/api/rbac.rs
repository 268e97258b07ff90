//! The role matrix: every route × Admin/Editor/Reader/no role × own/other's task, checking both
//! the status and what happened to the tasks.

use reqwest::Method;
use serde_json::json;

use crate::helpers::TestApp;

#[derive(Debug, Clone, Copy)]
enum Route {
    Me,
    List,
    Create,
    PatchOwn,
    PatchOther,
    DeleteOwn,
    DeleteOther,
}

/// Expected statuses, in the order of [`ROUTES`].
const ROUTES: [Route; 7] = [
    Route::Me,
    Route::List,
    Route::Create,
    Route::PatchOwn,
    Route::PatchOther,
    Route::DeleteOwn,
    Route::DeleteOther,
];

const MATRIX: [(&str, &[&str], [u16; 7]); 4] = [
    ("admin", &["Admin"], [200, 200, 201, 200, 200, 204, 204]),
    ("editor", &["Editor"], [200, 200, 201, 200, 404, 403, 403]),
    ("reader", &["Reader"], [200, 200, 403, 403, 403, 403, 403]),
    ("norole", &[], [200, 403, 403, 403, 403, 403, 403]),
];

#[tokio::test]
async fn every_route_for_every_role_on_own_and_other_tasks() {
    let app = TestApp::spawn().await;
    for (user, roles, expected) in MATRIX {
        let token = app.token(user, roles);
        for (route, status) in ROUTES.into_iter().zip(expected) {
            let own = app.seed(user, "own").await;
            let other = app.seed("someone-else", "other").await;
            let before = app.all_tasks().await;
            let target = match route {
                Route::PatchOther | Route::DeleteOther => other.id,
                _ => own.id,
            };
            let path = format!("/api/tasks/{target}");
            let patch = json!({"title": "changed", "completed": true});
            let reply = match route {
                Route::Me => app.get("/api/me", Some(&token)).await,
                Route::List => app.get("/api/tasks", Some(&token)).await,
                Route::Create => {
                    app.send(
                        Method::POST,
                        "/api/tasks",
                        Some(&token),
                        Some(&json!({"title": " new "})),
                    )
                    .await
                }
                Route::PatchOwn | Route::PatchOther => {
                    app.send(Method::PATCH, &path, Some(&token), Some(&patch))
                        .await
                }
                Route::DeleteOwn | Route::DeleteOther => {
                    app.send(Method::DELETE, &path, Some(&token), None).await
                }
            };
            let case = format!("{user} {route:?}");
            assert_eq!(reply.status, status, "{case}: {reply:?}");
            let after = app.all_tasks().await;

            match (route, status) {
                (Route::Me, _) => assert_eq!(reply.body["id"], user, "{case}"),
                (Route::List, 200) => {
                    let ids: Vec<u64> = reply
                        .body
                        .as_array()
                        .expect("list")
                        .iter()
                        .map(|t| t["id"].as_u64().expect("id"))
                        .collect();
                    assert!(ids.contains(&own.id), "{case}: own task listed");
                    assert_eq!(
                        ids.contains(&other.id),
                        user == "admin",
                        "{case}: others' tasks only for Admin"
                    );
                    let owners_ok = reply
                        .body
                        .as_array()
                        .expect("list")
                        .iter()
                        .all(|t| user == "admin" || t["owner_id"] == user);
                    assert!(owners_ok, "{case}: only own tasks");
                }
                (Route::Create, 201) => {
                    assert_eq!(reply.body["title"], "new", "{case}: title trimmed");
                    assert_eq!(reply.body["owner_id"], user, "{case}");
                    assert_eq!(reply.body["owner_name"], format!("User {user}"), "{case}");
                    assert_eq!(reply.body["completed"], false, "{case}");
                    assert_eq!(after.len(), before.len() + 1, "{case}");
                }
                (Route::PatchOwn | Route::PatchOther, 200) => {
                    assert_eq!(reply.body["id"], target, "{case}");
                    assert_eq!(
                        (
                            reply.body["title"].as_str(),
                            reply.body["completed"].as_bool()
                        ),
                        (Some("changed"), Some(true)),
                        "{case}"
                    );
                    let stored = after.iter().find(|t| t.id == target).expect("still there");
                    assert!(
                        stored.completed && stored.title == "changed",
                        "{case}: stored"
                    );
                }
                (Route::DeleteOwn | Route::DeleteOther, 204) => {
                    assert!(after.iter().all(|t| t.id != target), "{case}: deleted");
                    assert_eq!(after.len(), before.len() - 1, "{case}");
                }
                (_, 403) => {
                    assert_eq!(before, after, "{case}: nothing changed");
                    assert_eq!(reply.code(), "forbidden", "{case}");
                    let named = match route {
                        Route::List => "Admin, Editor, Reader",
                        Route::DeleteOwn | Route::DeleteOther => "Admin",
                        _ => "Admin, Editor",
                    };
                    assert!(
                        reply.message().ends_with(named),
                        "{case}: {}",
                        reply.message()
                    );
                }
                (_, 404) => {
                    assert_eq!(before, after, "{case}: nothing changed");
                    assert_eq!(reply.code(), "task_not_found", "{case}");
                }
                _ => unreachable!("{case}: no expectation for {status}"),
            }
        }
    }
}

#[tokio::test]
async fn unknown_task_ids_are_404_for_those_allowed_to_ask() {
    let app = TestApp::spawn().await;
    let admin = app.token("admin", &["Admin"]);
    let editor = app.token("editor", &["Editor"]);
    let patch = json!({"completed": true});
    for token in [&admin, &editor] {
        let reply = app
            .send(
                Method::PATCH,
                "/api/tasks/424242",
                Some(token),
                Some(&patch),
            )
            .await;
        assert_eq!((reply.status, reply.code()), (404, "task_not_found"));
    }
    let reply = app
        .send(Method::DELETE, "/api/tasks/424242", Some(&admin), None)
        .await;
    assert_eq!((reply.status, reply.code()), (404, "task_not_found"));
}

#[tokio::test]
async fn roles_are_exact_and_unknown_roles_grant_nothing() {
    let app = TestApp::spawn().await;
    for roles in [&["admin"][..], &["ADMIN"], &["Auditor"], &["Admin "]] {
        let reply = app
            .send(
                Method::POST,
                "/api/tasks",
                Some(&app.token("u", roles)),
                Some(&json!({"title": "x"})),
            )
            .await;
        assert_eq!(reply.status, 403, "{roles:?}");
    }
    assert!(app.all_tasks().await.is_empty());
}
