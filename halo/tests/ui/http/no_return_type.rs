#[halo::http]
fn router() {}
