// Beast's HTTP/1.1 request parser with Chime's limits, storing straight into
// a web::Request (internal to common/web). The head is limited in bytes
// (max_header_bytes, by Beast), in fields (max_headers) and in target length
// (max_target_bytes); the body in bytes as they arrive (max_body_bytes,
// chunked or not), and only once the body limit is set: the server sets it
// after the head has been admitted, so no body is ever read for a refused
// request. Transfer codings other than chunked and content codings are not
// decoded (the server refuses such requests). Thread-compatible.
#pragma once

#include <boost/beast/http/basic_parser.hpp>

#include <cstdint>
#include <string>

#include "common/web/server.h"

namespace chime::web {

class RequestParser final : public boost::beast::http::basic_parser<true> {
 public:
  explicit RequestParser(const ServerConfig& config);

  // Allows the body to be read, up to max_body_bytes.
  void AllowBody();

  // Why the head was refused, when a read failed with header_limit.
  bool saw_request_line() const { return saw_request_line_; }
  bool target_too_long() const { return target_too_long_; }
  bool too_many_headers() const { return too_many_headers_; }
  bool body_too_large() const { return body_too_large_; }

  int version() const { return version_; }
  // The request read so far (method, raw target in `path`, headers, body).
  Request& request() { return request_; }

 private:
  using string_view = boost::beast::string_view;
  using error_code = boost::beast::error_code;

  void on_request_impl(boost::beast::http::verb method, string_view method_str, string_view target, int version,
                       error_code& ec) override;
  void on_response_impl(int code, string_view reason, int version, error_code& ec) override;
  void on_field_impl(boost::beast::http::field name, string_view name_string, string_view value,
                     error_code& ec) override;
  void on_header_impl(error_code& ec) override;
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length, error_code& ec) override;
  size_t on_body_impl(string_view body, error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t size, string_view extensions, error_code& ec) override;
  size_t on_chunk_body_impl(std::uint64_t remain, string_view body, error_code& ec) override;
  void on_finish_impl(error_code& ec) override;

  const ServerConfig& config_;
  Request request_;
  int version_ = 11;
  int fields_ = 0;
  bool saw_request_line_ = false;
  bool target_too_long_ = false;
  bool too_many_headers_ = false;
  bool body_too_large_ = false;
};

}  // namespace chime::web
