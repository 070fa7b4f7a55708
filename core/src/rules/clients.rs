//! Exception type names of the common HTTP client libraries, matched exactly (whole name or last
//! dotted component). Status-carrying errors (`HTTPError`, `HTTPStatusError`,
//! `ClientResponseError`, got's `HTTPError`, `AxiosError` with `response.status`) are left out
//! on purpose: bindings pass their status, which outranks any name.
//!
//! Sources: the libraries' own exception modules (requests `exceptions.py`, httpx
//! `_exceptions.py`, aiohttp `client_exceptions.py`, urllib3 `exceptions.py`, undici
//! `lib/core/errors.js`, got `source/core/errors.ts`, axios `lib/core/AxiosError.js`).

use super::exception_name;
use crate::class::ErrorClass::*;
use crate::classify::Rule;

/// Timeouts, whichever phase (connect, read, write, pool, headers, body).
pub(super) fn timeout() -> Rule {
    exception_name(
        "client library timeout",
        &[
            // requests
            "ConnectTimeout",
            "ReadTimeout",
            "Timeout",
            // httpx
            "WriteTimeout",
            "PoolTimeout",
            "TimeoutException",
            // aiohttp
            "ServerTimeoutError",
            "ConnectionTimeoutError",
            "SocketTimeoutError",
            // urllib3
            "ReadTimeoutError",
            "ConnectTimeoutError",
            "TimeoutError",
            // undici, got, DOMException (AbortSignal.timeout)
            "HeadersTimeoutError",
            "BodyTimeoutError",
            "RequestTimeoutError",
        ],
        Timeout,
    )
}

/// The connection could not be made, or broke before a full response arrived.
pub(super) fn connection() -> Rule {
    exception_name(
        "client library connection",
        &[
            // requests
            "ConnectionError",
            "ChunkedEncodingError",
            // httpx
            "ConnectError",
            "ReadError",
            "WriteError",
            "RemoteProtocolError",
            "NetworkError",
            // aiohttp
            "ClientConnectorError",
            "ClientConnectionError",
            "ServerDisconnectedError",
            "ClientOSError",
            "ClientPayloadError",
            "ServerConnectionError",
            // urllib3 (MaxRetryError's reason, when known, is a cause and is read first
            // only if it names a timeout)
            "NewConnectionError",
            "MaxRetryError",
            "ProtocolError",
            "IncompleteRead",
            // http.client, socket
            "RemoteDisconnected",
            "gaierror",
            // undici, got
            "SocketError",
            "FetchError",
        ],
        Connection,
    )
}

/// The caller (or a signal it passed) stopped the request: retrying is not wanted.
pub(super) fn cancelled() -> Rule {
    exception_name(
        "client library cancelled",
        &[
            "AbortError",
            "CanceledError",
            "CancelError",
            "CancelledError",
            "RequestAbortedError",
        ],
        Cancelled,
    )
}

/// Requests that cannot succeed as written (bad URL, redirect loop).
pub(super) fn client_error() -> Rule {
    exception_name(
        "client library request error",
        &[
            "InvalidURL",
            "MissingSchema",
            "InvalidSchema",
            "UnsupportedProtocol",
            "InvalidUrlError",
            "LocationParseError",
            "TooManyRedirects",
            "MaxRedirectsError",
        ],
        ClientError,
    )
}
