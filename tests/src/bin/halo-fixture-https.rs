//! Calls `HTTPS_URL` over TLS with both of halo's clients: a GET with
//! `halo::http::Client`, and DynamoDB `ListTables` with the platform's
//! client (`AWS_ENDPOINT_URL` pointing at the same server). Prints one
//! line per call, `http ok 200 in <ms> ms` or `http failed: …`,
//! `dynamodb ok in <ms> ms` or `dynamodb failed: …` (the first call of
//! each sets TLS up: the time shows what a first request pays).

fn main() -> std::process::ExitCode {
    halo::platform::block_on(async {
        let url = std::env::var("HTTPS_URL").expect("HTTPS_URL");
        let started = std::time::Instant::now();
        let ms = |started: std::time::Instant| started.elapsed().as_secs_f64() * 1000.0;
        match halo::http::Client::new() {
            Ok(client) => match client.get(format!("{url}/ping")).send().await {
                Ok(response) => println!("http ok {} in {:.2} ms", response.status().as_u16(), ms(started)),
                Err(err) => println!("http failed: {}", err.source_chain()),
            },
            Err(err) => println!("http failed: {}", err.source_chain()),
        }
        let dynamodb = halo::platform::dynamodb_client().await;
        let started = std::time::Instant::now();
        match dynamodb.list_tables().send().await {
            Ok(_) => println!("dynamodb ok in {:.2} ms", ms(started)),
            Err(err) => println!("dynamodb failed: {}", aws_sdk_dynamodb::error::DisplayErrorContext(err)),
        }
        std::process::ExitCode::SUCCESS
    })
}
