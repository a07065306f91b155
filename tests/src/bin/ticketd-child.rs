//! The real `ticketd` program, built inside the tests package so that the
//! crash tests can run it as a child process (`CARGO_BIN_EXE_ticketd-child`).

fn main() -> std::process::ExitCode {
    ticketd::cli::main()
}
