use super::*;
use crate::config::Config;
use crate::edit::apply;

fn span(text: &str, value: &str) -> Span {
    let start = text.find(value).expect("value in text");
    crate::model::LineIndex::new(text).span(text, start..start + value.len())
}

#[test]
fn value_range_takes_the_span_or_the_one_whole_token_inside_it() {
    let text = r#"source = "git::https://example.com/m.git//vpc?ref=v1.2.3""#;
    let whole = span(text, "git::https://example.com/m.git//vpc?ref=v1.2.3");
    let r = value_range(text, &whole, "v1.2.3").expect("found");
    assert_eq!(&text[r], "v1.2.3");
    // `v1` inside `v10` is no match; two matches are ambiguous.
    let t = "image: repo:v10";
    assert_eq!(value_range(t, &span(t, "repo:v10"), "v1"), None);
    let t = "x: v1-v1";
    assert_eq!(value_range(t, &span(t, "v1-v1"), "v1"), None);
    let t = "newTag: \"v1\"";
    assert_eq!(value_range(t, &span(t, "v1"), "v1"), Some(9..11));
}

#[test]
fn digest_range_finds_the_digest_beside_the_tag() {
    let d = format!("sha256:{}", "a".repeat(64));
    let text =
        format!("images:\n  - name: app\n    newTag: v1\n    digest: {d}\n  - name: other\n");
    let tag = span(&text, "v1");
    let r = digest_range(&text, &tag, &d).expect("found");
    assert_eq!(&text[r.clone()], d);
    assert_eq!(r.start, text.find(&d).expect("digest"));
    // Too far away: not this pin's digest.
    let far = format!("newTag: v1\n\n\n\n\n\n\ndigest: {d}\n");
    assert_eq!(digest_range(&far, &span(&far, "v1"), &d), None);
}

fn plan_of(files: &[(&str, &str)], req: Request) -> Result<Plan, Error> {
    let bytes: Vec<(&str, &[u8])> = files.iter().map(|(p, t)| (*p, t.as_bytes())).collect();
    let snap = crate::pipeline::snapshot_from_bytes(&bytes, &Config::default()).expect("snapshot");
    plan(
        &snap,
        &HistoryIndex::empty(),
        &Config::default().mutable_tags,
        &req,
    )
}

fn promoted(files: &[(&str, &str)], plan: &Plan, path: &str) -> String {
    let text = files
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, t)| *t)
        .expect("file");
    let edits: Vec<&Edit> = plan
        .promotions
        .iter()
        .flat_map(|p| &p.changes)
        .map(|c| &c.edit)
        .filter(|e| e.path == path)
        .collect();
    apply(text, &edits).expect("apply")
}

const DEV_DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: ghcr.io/acme/api:v1.4.0@sha256:1111111111111111111111111111111111111111111111111111111111111111\n";

#[test]
fn an_image_string_gets_the_predecessors_tag_and_digest() {
    let prod = "apiVersion: apps/v1\r\nkind: Deployment\r\nmetadata:\r\n  name: api\r\nspec:\r\n  template:\r\n    spec:\r\n      containers:\r\n        - name: api # the API\r\n          image: \"ghcr.io/acme/api:v1.3.0@sha256:2222222222222222222222222222222222222222222222222222222222222222\"\r\n";
    let files = [
        ("apps/dev/api.yaml", DEV_DEPLOY),
        ("apps/prod/api.yaml", prod),
    ];
    let plan = plan_of(
        &files,
        Request {
            components: vec!["ghcr.io/acme/api".to_string()],
            to: "prod".to_string(),
            ..Request::default()
        },
    )
    .expect("plan");
    assert_eq!(plan.promotions.len(), 1);
    let p = &plan.promotions[0];
    assert_eq!(
        (p.from.clone(), p.to.as_str()),
        (vec!["v1.3.0".to_string()], "v1.4.0")
    );
    assert_eq!(p.source.as_deref(), Some("dev"));
    assert_eq!(
        promoted(&files, &plan, "apps/prod/api.yaml"),
        "apiVersion: apps/v1\r\nkind: Deployment\r\nmetadata:\r\n  name: api\r\nspec:\r\n  template:\r\n    spec:\r\n      containers:\r\n        - name: api # the API\r\n          image: \"ghcr.io/acme/api:v1.4.0@sha256:1111111111111111111111111111111111111111111111111111111111111111\"\r\n"
    );
    let at: Vec<(u32, u32, &str)> = p
        .changes
        .iter()
        .map(|c| (c.line, c.column, c.to.as_str()))
        .collect();
    assert_eq!(at[0], (10, 36, "v1.4.0"));
    assert_eq!(at[1].0, 10);
}

#[test]
fn refuses_what_it_cannot_write_exactly() {
    let files = [
        ("apps/dev/api.yaml", DEV_DEPLOY),
        (
            "apps/prod/api.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: ghcr.io/acme/api:v1.3.0\n",
        ),
    ];
    let req = |c: &str, to: &str| Request {
        components: vec![c.to_string()],
        to: to.to_string(),
        ..Request::default()
    };
    let err = plan_of(&files, req("ghcr.io/acme/apy", "prod")).expect_err("unknown");
    assert!(
        err.to_string().contains("did you mean `ghcr.io/acme/api`"),
        "{err}"
    );
    let err = plan_of(&files, req("ghcr.io/acme/api", "qa")).expect_err("no env");
    assert!(
        err.to_string().contains("the environments are: dev, prod"),
        "{err}"
    );
    let err = plan_of(&files, req("ghcr.io/acme/api", "dev")).expect_err("first env");
    assert!(
        err.to_string().contains("no environment before `dev`"),
        "{err}"
    );
    // Already there: nothing to do, and said so.
    let same = [
        ("apps/dev/api.yaml", DEV_DEPLOY),
        ("apps/prod/api.yaml", DEV_DEPLOY),
    ];
    let plan = plan_of(&same, req("ghcr.io/acme/api", "prod")).expect("plan");
    assert!(plan.promotions.is_empty());
    assert_eq!(plan.skipped.len(), 1);
}
