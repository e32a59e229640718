//! Which AWS service sent an event.

/// The kind of event an invocation received, as far as halo can tell from
/// its shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventSource {
    /// API Gateway REST API (payload format 1.0).
    ApiGatewayV1,
    /// API Gateway HTTP API (payload format 2.0).
    ApiGatewayV2,
    /// A Lambda function URL (payload format 2.0 on a `lambda-url` domain).
    FunctionUrl,
    /// An Application Load Balancer target group; `multi_value` when the
    /// target group has multi-value headers on (the response must use them
    /// too).
    Alb {
        /// Multi-value headers are on.
        multi_value: bool,
    },
    /// An SQS batch.
    Sqs,
    /// An SNS notification.
    Sns,
    /// An EventBridge event.
    EventBridge,
    /// A Kinesis batch.
    Kinesis,
    /// A DynamoDB Streams batch.
    DynamoDbStream,
    /// Anything else: a direct invocation or an unknown source.
    Direct,
}

impl EventSource {
    /// Whether the caller expects an HTTP proxy response
    /// (`statusCode`, `headers`, `body`).
    pub fn is_http(self) -> bool {
        matches!(
            self,
            EventSource::ApiGatewayV1 | EventSource::ApiGatewayV2 | EventSource::FunctionUrl | EventSource::Alb { .. }
        )
    }

    /// A short name for logs.
    pub fn name(self) -> &'static str {
        match self {
            EventSource::ApiGatewayV1 => "apigateway-rest",
            EventSource::ApiGatewayV2 => "apigateway-http",
            EventSource::FunctionUrl => "function-url",
            EventSource::Alb { .. } => "alb",
            EventSource::Sqs => "sqs",
            EventSource::Sns => "sns",
            EventSource::EventBridge => "eventbridge",
            EventSource::Kinesis => "kinesis",
            EventSource::DynamoDbStream => "dynamodb-stream",
            EventSource::Direct => "direct",
        }
    }
}
