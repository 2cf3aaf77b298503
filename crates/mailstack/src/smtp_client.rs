//! A minimal blocking SMTP client, for tests and the demo to inject mail
//! into the stack's Postfix as an intern's mail client would. Plain SMTP on
//! the loopback, one message per connection, dot-stuffing done here.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::{bail, Context, Result};

/// Sends `raw` from `from` to every address of `to` through the server at
/// 127.0.0.1:`port`.
pub fn send(port: u16, from: &str, to: &[&str], raw: &[u8]) -> Result<()> {
    let stream = TcpStream::connect(("127.0.0.1", port))
        .with_context(|| format!("cannot connect to the stack's SMTP server 127.0.0.1:{port}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    expect(&mut reader, 220, "greeting")?;
    command(&mut writer, &mut reader, "EHLO mailstack-client", 250)?;
    command(&mut writer, &mut reader, &format!("MAIL FROM:<{from}>"), 250)?;
    for recipient in to {
        command(&mut writer, &mut reader, &format!("RCPT TO:<{recipient}>"), 250)?;
    }
    command(&mut writer, &mut reader, "DATA", 354)?;
    writer.write_all(&dot_stuff(raw))?;
    writer.write_all(b".\r\n")?;
    expect(&mut reader, 250, "end of DATA")?;
    command(&mut writer, &mut reader, "QUIT", 221)?;
    Ok(())
}

fn command(writer: &mut TcpStream, reader: &mut BufReader<TcpStream>, line: &str, code: u16) -> Result<()> {
    writer.write_all(format!("{line}\r\n").as_bytes())?;
    expect(reader, code, line)
}

/// Reads one (possibly multi-line) reply and checks its code.
fn expect(reader: &mut BufReader<TcpStream>, code: u16, after: &str) -> Result<()> {
    let mut reply = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            bail!("the SMTP server closed the connection after {after:?}: {reply}");
        }
        reply.push_str(&line);
        if line.as_bytes().get(3) != Some(&b'-') {
            break;
        }
    }
    if !reply.starts_with(&code.to_string()) {
        bail!("the SMTP server answered {after:?} with {}", reply.trim_end());
    }
    Ok(())
}

/// Normalises line endings to CRLF, doubles leading dots, and ends the
/// message with CRLF (the terminating `.` line follows).
fn dot_stuff(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + 64);
    for line in raw.split_inclusive(|&byte| byte == b'\n') {
        let content = line.strip_suffix(b"\n").unwrap_or(line);
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        if content.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(content);
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_stuffing_doubles_leading_dots_and_normalises_endings() {
        assert_eq!(dot_stuff(b"a\n.b\r\nc"), b"a\r\n..b\r\nc\r\n".to_vec());
    }
}
