#include "backends/cachekitio/http_client.hpp"

#include <curl/curl.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <mutex>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

// A response body larger than this is refused (the API stores at most 25 MB per value).
constexpr std::size_t max_body_bytes = std::size_t{64} << 20;

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct transfer {
  http_response* response;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<transfer*>(user);
  const std::size_t n = size * count;
  if (t->response->body.size() + n > max_body_bytes) return 0;  // CURLE_WRITE_ERROR
  t->response->body.append(data, n);
  return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<transfer*>(user);
  const std::size_t n = size * count;
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {  // a new response (after a 100 Continue): forget the last
    t->response->headers.clear();
    return n;
  }
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ' ||
                            value.back() == '\t')) {
    value.remove_suffix(1);
  }
  t->response->headers.emplace_back(std::move(name), std::string(value));
  return n;
}

std::string random_uuid() {
  std::array<unsigned char, 16> b{};
  std::size_t got = 0;
  while (got < b.size()) {
    const ssize_t n = getrandom(b.data() + got, b.size() - got, 0);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
  char text[37];
  std::snprintf(text, sizeof text,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return text;
}

}  // namespace

struct http_client::process_state {
  explicit process_state(std::size_t pool_size) : pid(getpid()), pool_limit(pool_size) {
    share = curl_share_init();
    curl_share_setopt(share, CURLSHOPT_LOCKFUNC, &lock);
    curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, &unlock);
    curl_share_setopt(share, CURLSHOPT_USERDATA, this);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    session.id = random_uuid();
    session.start_millis = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count());
  }
  ~process_state() {
    for (CURL* easy : idle) curl_easy_cleanup(easy);
    curl_share_cleanup(share);
  }

  static void lock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
    static_cast<process_state*>(user)->locks[static_cast<std::size_t>(data) % lock_count].lock();
  }
  static void unlock(CURL*, curl_lock_data data, void* user) {
    static_cast<process_state*>(user)->locks[static_cast<std::size_t>(data) % lock_count].unlock();
  }

  static constexpr std::size_t lock_count = CURL_LOCK_DATA_LAST;
  const pid_t pid;
  const std::size_t pool_limit;
  CURLSH* share = nullptr;
  std::array<std::mutex, lock_count> locks;
  std::mutex pool_mutex;
  std::vector<CURL*> idle;
  http_session session;
};

std::optional<std::string> http_response::header(std::string_view lowercase_name) const {
  std::optional<std::string> value;
  for (const auto& [name, v] : headers) {
    if (name != lowercase_name) continue;
    if (value) {
      *value += ", ";
      *value += v;
    } else {
      value = v;
    }
  }
  return value;
}

http_client::http_client(http_client_options options) : options_(std::move(options)) {
  global_init();
  curl_slist* list = nullptr;
  for (const std::string& entry : options_.resolve) list = curl_slist_append(list, entry.c_str());
  resolve_list_ = list;
}

http_client::~http_client() {
  process_state* s = state_.load(std::memory_order_acquire);
  // Only the process that made the state cleans it up: a child's copy of the parent's handles
  // would otherwise close (and, for TLS, write a close_notify on) the parent's connections.
  if (s != nullptr && s->pid == getpid()) delete s;
  curl_slist_free_all(static_cast<curl_slist*>(resolve_list_));
}

http_client::process_state& http_client::state() {
  process_state* seen = state_.load(std::memory_order_acquire);
  const pid_t me = getpid();
  if (seen != nullptr && seen->pid == me) [[likely]] {
    return *seen;
  }
  auto fresh = std::make_unique<process_state>(options_.pool_size);
  while (seen == nullptr || seen->pid != me) {
    if (state_.compare_exchange_weak(seen, fresh.get(), std::memory_order_acq_rel,
                                     std::memory_order_acquire)) {
      return *fresh.release();  // the parent's state, if any, is abandoned in this child
    }
  }
  return *seen;  // another thread of this process installed one first
}

const http_session& http_client::session() {
  return state().session;
}

void* http_client::checkout(process_state& s) {
  {
    std::lock_guard<std::mutex> hold(s.pool_mutex);
    if (!s.idle.empty()) {
      CURL* easy = s.idle.back();
      s.idle.pop_back();
      return easy;
    }
  }
  return curl_easy_init();
}

void http_client::checkin(process_state& s, void* easy) {
  {
    std::lock_guard<std::mutex> hold(s.pool_mutex);
    if (s.idle.size() < s.pool_limit) {
      s.idle.push_back(static_cast<CURL*>(easy));
      return;
    }
  }
  curl_easy_cleanup(static_cast<CURL*>(easy));
}

void http_client::prepare(void* handle, process_state& s, const http_request& request,
                          http_response& response, void*& header_list) {
  CURL* easy = static_cast<CURL*>(handle);
  curl_easy_reset(easy);
  const std::string url = options_.origin + options_.path_prefix + request.path;
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());  // copied by curl
  curl_easy_setopt(easy, CURLOPT_SHARE, s.share);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "https");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy, CURLOPT_MAXCONNECTS, static_cast<long>(options_.pool_size));
  curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPIDLE, 60L);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPINTVL, 10L);
  if (!options_.ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (resolve_list_ != nullptr) curl_easy_setopt(easy, CURLOPT_RESOLVE, resolve_list_);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, options_.user_agent.c_str());

  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, options_.authorization_header.c_str());
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip on PUT
  for (const std::string& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  header_list = headers;

  if (request.method == "GET") {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
  } else {
    const std::string method(request.method);
    if (request.body) {
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body->size()));
      curl_easy_setopt(
          easy, CURLOPT_POSTFIELDS,
          request.body->empty() ? "" : reinterpret_cast<const char*>(request.body->data()));
    }
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method.c_str());  // copied by curl
  }
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &on_header);
  (void)response;
}

namespace {

void finish(CURL* easy, CURLcode code, http_response& response) {
  response.transport_error = static_cast<int>(code);
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  response.status = code == CURLE_OK ? status : 0;
}

}  // namespace

http_response http_client::perform(const http_request& request) {
  process_state& s = state();
  http_response response;
  transfer t{&response};
  void* easy = checkout(s);
  if (easy == nullptr) {
    response.transport_error = CURLE_OUT_OF_MEMORY;
    return response;
  }
  void* header_list = nullptr;
  prepare(easy, s, request, response, header_list);
  curl_easy_setopt(static_cast<CURL*>(easy), CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(static_cast<CURL*>(easy), CURLOPT_HEADERDATA, &t);
  const CURLcode code = curl_easy_perform(static_cast<CURL*>(easy));
  finish(static_cast<CURL*>(easy), code, response);
  curl_easy_setopt(static_cast<CURL*>(easy), CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(static_cast<curl_slist*>(header_list));
  checkin(s, easy);
  return response;
}

std::vector<http_response> http_client::perform_many(std::span<const http_request> requests) {
  std::vector<http_response> responses(requests.size());
  if (requests.empty()) return responses;
  if (requests.size() == 1) {
    responses[0] = perform(requests[0]);
    return responses;
  }
  process_state& s = state();
  CURLM* multi = curl_multi_init();
  if (multi == nullptr) {
    for (auto& r : responses) r.transport_error = CURLE_OUT_OF_MEMORY;
    return responses;
  }
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(options_.pool_size));
  struct slot {
    CURL* easy = nullptr;
    void* headers = nullptr;
    transfer t{nullptr};
  };
  std::vector<slot> slots(requests.size());
  std::size_t next = 0;
  std::size_t running_count = 0;
  const auto start_one = [&](std::size_t i) {
    slot& sl = slots[i];
    sl.t.response = &responses[i];
    sl.easy = static_cast<CURL*>(checkout(s));
    if (sl.easy == nullptr) {
      responses[i].transport_error = CURLE_OUT_OF_MEMORY;
      return;
    }
    prepare(sl.easy, s, requests[i], responses[i], sl.headers);
    curl_easy_setopt(sl.easy, CURLOPT_WRITEDATA, &sl.t);
    curl_easy_setopt(sl.easy, CURLOPT_HEADERDATA, &sl.t);
    curl_easy_setopt(sl.easy, CURLOPT_PRIVATE, reinterpret_cast<void*>(i));
    curl_multi_add_handle(multi, sl.easy);
    ++running_count;
  };
  while (next < requests.size() && running_count < std::max<std::size_t>(1, options_.pool_size))
    start_one(next++);
  int still_running = 0;
  do {
    curl_multi_perform(multi, &still_running);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* easy = msg->easy_handle;
      const CURLcode code = msg->data.result;
      char* priv = nullptr;
      curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
      const auto i = reinterpret_cast<std::size_t>(priv);
      finish(easy, code, responses[i]);
      curl_multi_remove_handle(multi, easy);
      curl_easy_setopt(easy, CURLOPT_HTTPHEADER, nullptr);
      curl_slist_free_all(static_cast<curl_slist*>(slots[i].headers));
      slots[i].headers = nullptr;
      checkin(s, easy);
      --running_count;
      if (next < requests.size()) start_one(next++);
    }
    if (running_count == 0 && next >= requests.size()) break;
    curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  } while (true);
  curl_multi_cleanup(multi);
  return responses;
}

std::string http_client::describe(int transport_error) {
  return curl_easy_strerror(static_cast<CURLcode>(transport_error));
}

bool http_client::is_timeout(int transport_error) noexcept {
  return transport_error == CURLE_OPERATION_TIMEDOUT;
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
