//! `?` on each of halo's own error types, in code returning `halo::Error`,
//! keeps the error's documented kind, status and code; any other error is
//! an internal error whose text is never public. Also through the whole
//! stack: a rolled-back saga is a 409 for an API Gateway caller.

use aws_lambda_events::event::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use futures_util::FutureExt;
use halo::durable::StoreError;
use halo::params::{ParamsError, ParamsErrorKind};
use halo::saga::{SagaError, StepError};
use halo::test_support::HandlerService;
use halo::{Ctx, Error, Invocation};
use tower::{Service, ServiceExt};

fn through<E>(err: E) -> Error
where
    Error: From<E>,
{
    let result: Result<(), Error> = (|| {
        Err(err)?;
        Ok(())
    })();
    result.unwrap_err()
}

fn rolled_back() -> SagaError {
    SagaError::RolledBack {
        saga_id: "trip-1".into(),
        failed_step: "book_flight".into(),
        cause: StepError::new("NoSeats", "flight full"),
    }
}

fn asl_error() -> halo::saga::asl::AslError {
    halo::saga::Saga::from_asl("not a definition", &halo::saga::asl::AslRegistry::new()).unwrap_err()
}

#[test]
fn each_error_type_keeps_its_meaning() {
    let cases: Vec<(Error, u16, &str)> = vec![
        (through(rolled_back()), 409, "SagaRolledBack"),
        (through(SagaError::InProgress { saga_id: "trip-1".into() }), 409, "SagaInProgress"),
        (through(SagaError::Log(StoreError::conflict("PutItem"))), 503, "SagaLogUnavailable"),
        (through(SagaError::from(StoreError::unavailable("PutItem", "throttled"))), 503, "SagaLogUnavailable"),
        (through(StepError::new("NoSeats", "flight full")), 500, "NoSeats"),
        (through(asl_error()), 500, "SagaDefinitionError"),
        (through(StoreError::unavailable("PutItem", "throttled")), 503, "StoreUnavailable"),
        (through(StoreError::not_configured("set HALO_IDEMPOTENCY_TABLE")), 500, "StoreNotConfigured"),
        (through(ParamsError::new(ParamsErrorKind::Unavailable, "cannot reach SSM")), 503, "ParamsUnavailable"),
        (through(ParamsError::new(ParamsErrorKind::Missing, "no value").at("/shop/db/host")), 500, "ParamsError"),
        (through(std::io::Error::other("disk /dev/sda1 is full")), 500, "InternalError"),
    ];
    for (err, status, code) in cases {
        assert_eq!((err.status(), err.code()), (status, code), "{err:?}");
        if status == 500 {
            assert_eq!(err.message(), "internal error", "{code}: internal text stays internal");
        }
    }
    let missing = through(ParamsError::new(ParamsErrorKind::Missing, "no value").at("/shop/db/host"));
    assert!(!missing.message().contains("/shop"), "a parameter path is only logged");
    assert!(missing.source_chain().contains("/shop/db/host"));
}

#[cfg(feature = "fanout")]
#[test]
fn fan_out_errors_keep_their_meaning() {
    use halo::fanout::FanoutError;
    use halo::fanout::dispatch::DispatchError;
    let cases: Vec<(Error, u16, &str)> = vec![
        (through(FanoutError::InvalidJob("a job has 1 to 10000 parts".into())), 400, "InvalidJob"),
        (through(FanoutError::Conflict { job_id: "job-1".into() }), 409, "JobConflict"),
        (through(FanoutError::Store(StoreError::unavailable("UpdateItem", "throttled"))), 503, "FanoutStore"),
        (through(FanoutError::from(StoreError::too_large("UpdateItem", "item size"))), 422, "PartResultTooLarge"),
        (through(DispatchError::new("queue unreachable")), 503, "FanoutDispatch"),
        (
            through(FanoutError::NotConfigured { variable: "HALO_FANOUT_TABLE", message: "no table".into() }),
            500,
            "StoreNotConfigured",
        ),
    ];
    for (err, status, code) in cases {
        assert_eq!((err.status(), err.code()), (status, code), "{err:?}");
        assert!(
            !err.message().contains("throttled") && !err.message().contains("job-1"),
            "internal text stays internal"
        );
    }
}

#[test]
fn a_halo_error_boxes_as_a_std_error() {
    fn init() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        Err(Error::unavailable("the table is missing").with_source(std::io::Error::other("ResourceNotFound")))?;
        Ok(())
    }
    let err = init().unwrap_err();
    assert_eq!(err.to_string(), "Unavailable: the table is missing");
    assert_eq!(err.source().map(ToString::to_string).as_deref(), Some("ResourceNotFound"));
    assert_eq!(halo::test_support::describe_init_error(&err), "Unavailable: the table is missing: ResourceNotFound");
}

async fn book(_: ApiGatewayProxyRequest, _: &Ctx) -> Result<ApiGatewayProxyResponse, Error> {
    // What a handler writes: `saga.run(...).await?`.
    Err(rolled_back())?
}

#[test]
fn a_rolled_back_saga_answers_409_through_the_stack() {
    let event = include_str!("../../tests/fixtures/aws/aws_lambda_events/example-apigw-request.json");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let response = runtime.block_on(async {
        let mut stack = halo::test_support::stack(HandlerService::new(book), &halo::Options::default());
        let invocation = Invocation::new(event, Ctx::for_test());
        stack.ready().await.unwrap().call(invocation).now_or_never().unwrap().unwrap()
    });
    let response: serde_json::Value = serde_json::from_str(response.get()).unwrap();
    assert_eq!(response["statusCode"], 409);
    let body: serde_json::Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "SagaRolledBack");
}
