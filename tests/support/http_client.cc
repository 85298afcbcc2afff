#include "http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <utility>

namespace pavilion::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

int ConnectLoopback(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

class HttpClient::Impl {
 public:
  Impl(std::string host, uint16_t port) : host_(std::move(host)), port_(port), stream_(ioc_) {}

  ClientResponse Request(const std::string& method, const std::string& target,
                         const std::string& body, const std::string& token,
                         const std::map<std::string, std::string>& headers) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      ClientResponse r = Once(method, target, body, token, headers);
      if (r.status != 0) return r;
      // A kept-alive connection the server closed: reconnect once.
      beast::error_code ec;
      stream_.socket().close(ec);
      connected_ = false;
      if (attempt == 1) return r;
    }
    return {};
  }

 private:
  ClientResponse Once(const std::string& method, const std::string& target, const std::string& body,
                      const std::string& token, const std::map<std::string, std::string>& headers) {
    ClientResponse out;
    beast::error_code ec;
    if (!connected_) {
      asio::ip::tcp::endpoint ep(asio::ip::make_address(host_), port_);
      stream_.expires_after(std::chrono::seconds(30));
      stream_.connect(ep, ec);
      if (ec) {
        out.error = "connect: " + ec.message();
        return out;
      }
      connected_ = true;
    }
    http::request<http::string_body> req(http::string_to_verb(method), target, 11);
    req.set(http::field::host, host_);
    req.keep_alive(true);
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    stream_.expires_after(std::chrono::seconds(60));
    http::write(stream_, req, ec);
    if (ec) {
      out.error = "write: " + ec.message();
      return out;
    }
    http::response<http::string_body> res;
    http::read(stream_, buffer_, res, ec);
    if (ec) {
      out.error = "read: " + ec.message();
      return out;
    }
    out.status = res.result_int();
    out.body = res.body();
    for (const auto& f : res) out.headers[std::string(f.name_string())] = std::string(f.value());
    if (!res.keep_alive()) {
      stream_.socket().close(ec);
      connected_ = false;
    }
    return out;
  }

  std::string host_;
  uint16_t port_;
  asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  bool connected_ = false;
};

HttpClient::HttpClient(std::string host, uint16_t port)
    : impl_(std::make_unique<Impl>(std::move(host), port)) {}
HttpClient::~HttpClient() = default;

ClientResponse HttpClient::Request(const std::string& method, const std::string& target,
                                   const std::string& body, const std::string& token,
                                   const std::map<std::string, std::string>& headers) {
  return impl_->Request(method, target, body, token, headers);
}

}  // namespace pavilion::testing
