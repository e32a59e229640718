struct Service;

impl Service {
    #[halo::handler]
    async fn handler(&self, event: String, _ctx: &halo::Ctx) -> Result<String, halo::Error> {
        Ok(event)
    }
}

fn main() {}
