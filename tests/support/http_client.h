// A small blocking HTTP/1.1 keep-alive client for integration tests. Not thread-safe: use one
// per thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace pavilion::testing {

// A plain TCP connection to 127.0.0.1:port, for requests no well-behaved client sends: the
// socket, or -1 on failure.
int ConnectLoopback(uint16_t port);

struct ClientResponse {
  int status = 0;  // 0 when the request failed at the transport level.
  std::string body;
  std::map<std::string, std::string> headers;
  std::string error;
};

class HttpClient {
 public:
  HttpClient(std::string host, uint16_t port);
  ~HttpClient();
  ClientResponse Request(const std::string& method, const std::string& target,
                         const std::string& body = "", const std::string& token = "",
                         const std::map<std::string, std::string>& headers = {});
  ClientResponse Get(const std::string& target, const std::string& token = "") {
    return Request("GET", target, "", token);
  }
  ClientResponse Post(const std::string& target, const std::string& body,
                      const std::string& token = "",
                      const std::map<std::string, std::string>& headers = {}) {
    return Request("POST", target, body, token, headers);
  }

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pavilion::testing
