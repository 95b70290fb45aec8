/// What `passkeyctl --version` prints after the name. The same as the file VERSION at the top
/// of the source tree: Packaging/build-deb.sh refuses to package a passkeyctl that says
/// otherwise, and Tests/Integration/test_cli_conventions.py checks it.
let packageVersion = "0.1.0"
