// JSON as orjson.loads reads it -> MessagePack, streamed through nlohmann/json's SAX parser (its
// parser keeps its own stack, so a deep document cannot overflow ours) with no tree in between.
#include "codec/orjson.hpp"

#include "protocol/big_endian.hpp"
#include "protocol/msgpack_writer.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

using json = nlohmann::json;

// Writes each SAX event as MessagePack. A container's count is known only at its end, so its
// header is written as the 32-bit form and patched then.
class msgpack_sax {
 public:
  msgpack_sax(byte_buffer& out, const json_read_limits& limits)
      : out_(out), writer_(out), limits_(limits) {}

  bool null() {
    if (!begin_item()) return false;
    writer_.write_nil();
    return end_scalar();
  }
  bool boolean(bool b) {
    if (!begin_item()) return false;
    writer_.write_bool(b);
    return end_scalar();
  }
  bool number_integer(json::number_integer_t v) {
    if (!begin_item()) return false;
    writer_.write_int(v);
    return end_scalar();
  }
  bool number_unsigned(json::number_unsigned_t v) {
    if (!begin_item()) return false;
    writer_.write_uint(v);
    return end_scalar();
  }
  bool number_float(json::number_float_t v, const std::string& /*text*/) {
    if (!begin_item()) return false;
    writer_.write_float64(v);
    return end_scalar();
  }
  bool string(std::string& s) {
    if (!begin_item()) return false;
    writer_.write_str(s);
    return end_scalar();
  }
  bool binary(json::binary_t& /*b*/) { return refuse(errc::malformed, "binary value in JSON"); }

  bool start_object(std::size_t /*elements*/) { return open(0xdf, true); }
  bool key(std::string& k) {
    writer_.write_str(k);
    // Where the key's text is (it ends what was just written), for the repeated-key check.
    stack_.back().keys.emplace_back(out_.size() - k.size(), k.size());
    return within_output();
  }
  bool end_object() { return close(); }
  bool start_array(std::size_t /*elements*/) { return open(0xdd, false); }
  bool end_array() { return close(); }

  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& ex) {
    if (!failure_) {
      failure_ = failure{make_error_code(errc::malformed),
                         "invalid JSON at byte " + std::to_string(position) + ": " + ex.what()};
    }
    return false;
  }

  [[nodiscard]] const std::optional<failure>& failed() const noexcept { return failure_; }
  [[nodiscard]] bool complete() const noexcept { return stack_.empty() && items_ == 1; }

 private:
  struct open_container {
    std::size_t header_at;
    std::uint32_t count = 0;
    bool is_map;
    std::vector<std::pair<std::size_t, std::size_t>> keys;  // (offset in out_, length)
  };

  bool refuse(errc code, std::string detail) {
    if (!failure_) failure_ = failure{make_error_code(code), std::move(detail)};
    return false;
  }

  bool within_output() {
    if (out_.size() <= limits_.max_output_bytes) return true;
    return refuse(errc::length_limit, "JSON entry decodes to more than " +
                                          std::to_string(limits_.max_output_bytes) +
                                          " bytes of MessagePack");
  }

  // An item starts: it is one more element of the open container (a map counts its values).
  bool begin_item() {
    if (stack_.empty()) {
      ++items_;
      return true;
    }
    open_container& top = stack_.back();
    if (top.count == UINT32_MAX) return refuse(errc::length_limit, "JSON container too long");
    ++top.count;
    return true;
  }
  bool end_scalar() { return within_output(); }

  bool open(std::uint8_t tag, bool is_map) {
    if (!begin_item()) return false;
    if (stack_.size() >= limits_.max_depth) {
      return refuse(
          errc::length_limit,
          "JSON nested deeper than " + std::to_string(limits_.max_depth) + " (orjson's limit)");
    }
    stack_.push_back(open_container{.header_at = out_.size(), .is_map = is_map, .keys = {}});
    const std::byte header[5] = {std::byte{tag}};
    out_.insert(out_.end(), header, header + 5);
    return within_output();
  }

  bool close() {
    open_container& top = stack_.back();
    store_be(out_.data() + top.header_at + 1, top.count);
    if (top.is_map && top.keys.size() > 1) {
      auto text = [this](const std::pair<std::size_t, std::size_t>& k) {
        return std::string_view(reinterpret_cast<const char*>(out_.data()) + k.first, k.second);
      };
      std::sort(top.keys.begin(), top.keys.end(),
                [&](const auto& a, const auto& b) { return text(a) < text(b); });
      const auto dup =
          std::adjacent_find(top.keys.begin(), top.keys.end(),
                             [&](const auto& a, const auto& b) { return text(a) == text(b); });
      if (dup != top.keys.end()) {
        return refuse(errc::malformed,
                      "JSON object with a repeated key (cachekit-py never "
                      "writes one; orjson would keep the last)");
      }
    }
    stack_.pop_back();
    return true;
  }

  byte_buffer& out_;
  msgpack_writer writer_;
  const json_read_limits& limits_;
  std::vector<open_container> stack_;
  std::size_t items_ = 0;
  std::optional<failure> failure_;
};

}  // namespace

result<byte_buffer> orjson_to_standard(byte_view json_bytes, const json_read_limits& limits) {
  const auto* first = reinterpret_cast<const char*>(json_bytes.data());
  const auto* last = first + json_bytes.size();
  // nlohmann skips a UTF-8 byte order mark; orjson refuses one.
  if (json_bytes.size() >= 3 && std::string_view(first, 3) == "\xEF\xBB\xBF") {
    return fail(errc::malformed, "JSON starts with a UTF-8 byte order mark, which orjson refuses");
  }
  byte_buffer out;
  msgpack_sax sax(out, limits);
  bool ok = false;
  try {
    ok = json::sax_parse(first, last, &sax, nlohmann::json::input_format_t::json, true, false);
  } catch (const std::bad_alloc&) {
    return fail(errc::length_limit, "decoding the JSON entry ran out of memory");
  } catch (const std::exception& e) {
    return fail(errc::malformed, std::string("invalid JSON: ") + e.what());
  }
  if (!ok || !sax.complete()) {
    if (sax.failed()) return *sax.failed();
    return fail(errc::malformed, "invalid JSON: not one complete document");
  }
  return out;
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
