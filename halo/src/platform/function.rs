//! Static facts about the running function, read once from the environment.

use std::sync::{Arc, OnceLock};

/// Facts about the function that do not change between invocations.
///
/// Read once per container from the variables Lambda sets
/// (`AWS_LAMBDA_FUNCTION_NAME`, `AWS_LAMBDA_FUNCTION_VERSION`,
/// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, `AWS_LAMBDA_INITIALIZATION_TYPE`) and
/// `HALO_SERVICE`. Outside Lambda the binary's name stands in for the
/// function name, the version is `$LATEST` and the memory size 0.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FunctionInfo {
    /// The service name logged as `service`: `HALO_SERVICE`, else the
    /// function name.
    pub service: String,
    /// The function name.
    pub name: String,
    /// The function version.
    pub version: String,
    /// Memory size in MB.
    pub memory_size: u32,
    /// Whether the container was initialised for provisioned concurrency
    /// (then no invocation is a cold start).
    pub provisioned: bool,
}

impl FunctionInfo {
    /// Reads the facts from the environment.
    pub fn from_env() -> FunctionInfo {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let name = var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(binary_name);
        FunctionInfo {
            service: var("HALO_SERVICE").unwrap_or_else(|| name.clone()),
            version: var("AWS_LAMBDA_FUNCTION_VERSION").unwrap_or_else(|| "$LATEST".to_owned()),
            memory_size: var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").and_then(|m| m.parse().ok()).unwrap_or(0),
            provisioned: var("AWS_LAMBDA_INITIALIZATION_TYPE").as_deref() == Some("provisioned-concurrency"),
            name,
        }
    }

    /// The facts of this process, read from the environment on first use.
    pub(crate) fn shared() -> Arc<FunctionInfo> {
        static SHARED: OnceLock<Arc<FunctionInfo>> = OnceLock::new();
        SHARED.get_or_init(|| Arc::new(FunctionInfo::from_env())).clone()
    }

    /// Fixed facts for tests: function and service `test-function`, version
    /// `$LATEST`, 128 MB.
    pub fn for_test() -> FunctionInfo {
        FunctionInfo {
            service: "test-function".to_owned(),
            name: "test-function".to_owned(),
            version: "$LATEST".to_owned(),
            memory_size: 128,
            provisioned: false,
        }
    }
}

fn binary_name() -> String {
    std::env::args_os()
        .next()
        .as_deref()
        .map(std::path::Path::new)
        .and_then(|p| p.file_stem())
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "halo-function".to_owned())
}
