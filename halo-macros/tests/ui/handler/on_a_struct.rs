// Not a function: the error says where the attribute goes, and the struct
// is kept, so the code using it is not reported.
#[halo::handler]
struct Handler;

pub fn handler() -> Handler {
    Handler
}
