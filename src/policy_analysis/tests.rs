use super::*;

#[test]
fn smoke() {
    let own = vec!["prod".to_string()];
    let ctx = PolicyContext { environment: "production", own_tokens: &own, foreign_tokens: &[], mutable_tags: &[], protected: true };
    let p = analyse(Some(".*"), None, &PolicyOrder::Unspecified, &ctx);
    println!("{p:?}");
}
