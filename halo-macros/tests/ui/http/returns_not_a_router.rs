#[halo::http]
fn router() -> String {
    "not a router".into()
}
