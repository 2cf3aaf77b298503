//! A throw-away certificate authority and a server certificate for
//! `localhost` and 127.0.0.1, made with the `openssl` command so the stack
//! needs no TLS crate. ECDSA P-256 keys: generated in milliseconds, and
//! accepted by rustls/webpki.

use std::path::Path;

use anyhow::{Context, Result};

use crate::process::run;

/// Writes `ca.pem`, `server.pem` and `server.key` into `dir`.
pub fn make_certificates(dir: &Path) -> Result<()> {
    let path = |name: &str| dir.join(name).display().to_string();
    let extensions = dir.join("server.ext");
    std::fs::write(
        &extensions,
        "subjectAltName = DNS:localhost, IP:127.0.0.1\n\
         basicConstraints = critical, CA:FALSE\n\
         keyUsage = critical, digitalSignature, keyEncipherment\n\
         extendedKeyUsage = serverAuth\n",
    )
    .context("cannot write the certificate extensions")?;
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    let ca_key = path("ca.key");
    let ca_pem = path("ca.pem");
    let mut ca_args = vec!["req", "-x509"];
    ca_args.extend(ec);
    ca_args.extend([
        "-keyout",
        &ca_key,
        "-out",
        &ca_pem,
        "-days",
        "3650",
        "-subj",
        "/CN=mailstack test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    run("openssl", &ca_args).context("cannot make the test CA")?;
    let key = path("server.key");
    let csr = path("server.csr");
    let mut csr_args = vec!["req"];
    csr_args.extend(ec);
    csr_args.extend(["-keyout", &key, "-out", &csr, "-subj", "/CN=localhost"]);
    run("openssl", &csr_args).context("cannot make the server key")?;
    let pem = path("server.pem");
    let ext = extensions.display().to_string();
    run(
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca_pem,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-out",
            &pem,
            "-days",
            "3650",
            "-extfile",
            &ext,
        ],
    )
    .context("cannot sign the server certificate")?;
    Ok(())
}

/// Writes a self-signed `server.pem` (CA:TRUE, as `openssl req -x509`
/// marks it) with its `server.key`, and the same certificate as `ca.pem`:
/// what a referent gives as `ca_file` for such a server.
pub fn make_self_signed(dir: &Path) -> Result<()> {
    let path = |name: &str| dir.join(name).display().to_string();
    let (key, pem) = (path("server.key"), path("server.pem"));
    let mut args =
        vec!["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    args.extend([
        "-keyout",
        &key,
        "-out",
        &pem,
        "-days",
        "3650",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
    ]);
    run("openssl", &args).context("cannot make the self-signed certificate")?;
    std::fs::copy(dir.join("server.pem"), dir.join("ca.pem")).context("cannot copy the certificate")?;
    Ok(())
}
