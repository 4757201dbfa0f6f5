// URLs, percent-encoding and query strings against Go's net/url behaviour.
#include "net/url.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace llmscale::net {
namespace {

TEST(ParseUrlTest, SplitsSchemeHostPortPathAndQuery) {
  auto url = parse_url("http://example.com:8080/api/v1/query?query=up#frag");
  ASSERT_OK(url);
  EXPECT_EQ(url->scheme, "http");
  EXPECT_EQ(url->host, "example.com");
  EXPECT_EQ(url->port, 8080);
  EXPECT_EQ(url->path, "/api/v1/query");
  EXPECT_EQ(url->query, "query=up");
  EXPECT_EQ(url->target(), "/api/v1/query?query=up");
  EXPECT_EQ(url->authority(), "example.com:8080");
}

TEST(ParseUrlTest, DefaultPortsAndEmptyPath) {
  auto http = parse_url("http://localhost");
  ASSERT_OK(http);
  EXPECT_EQ(http->port, 80);
  EXPECT_EQ(http->path, "/");
  EXPECT_EQ(http->authority(), "localhost");  // default port omitted from Host
  auto https = parse_url("HTTPS://Metrics.Example.COM?x=1");
  ASSERT_OK(https);
  EXPECT_EQ(https->scheme, "https");
  EXPECT_EQ(https->host, "metrics.example.com");
  EXPECT_EQ(https->port, 443);
  EXPECT_EQ(https->target(), "/?x=1");
  EXPECT_EQ(https->to_string(), "https://metrics.example.com/?x=1");
}

TEST(ParseUrlTest, Ipv6Literals) {
  auto url = parse_url("http://[::1]:9090/metrics");
  ASSERT_OK(url);
  EXPECT_EQ(url->host, "::1");
  EXPECT_TRUE(url->host_is_ipv6());
  EXPECT_EQ(url->port, 9090);
  EXPECT_EQ(url->authority(), "[::1]:9090");
  auto no_port = parse_url("https://[2001:db8::1]/");
  ASSERT_OK(no_port);
  EXPECT_EQ(no_port->port, 443);
  EXPECT_EQ(no_port->authority(), "[2001:db8::1]");
}

TEST(ParseUrlTest, UserinfoIsSeparated) {
  auto url = parse_url("http://user:secret@host:81/x");
  ASSERT_OK(url);
  EXPECT_EQ(url->userinfo, "user:secret");
  EXPECT_EQ(url->host, "host");
  EXPECT_EQ(url->to_string(), "http://host:81/x");
}

TEST(ParseUrlTest, EscapesBytesNotAllowedInRequestTarget) {
  auto url = parse_url("http://h/a b?q=x y\"");
  ASSERT_OK(url);
  EXPECT_EQ(url->target(), "/a%20b?q=x%20y%22");
}

TEST(ParseUrlTest, Rejects) {
  for (const char* bad :
       {"ftp://h/", "h:80/x", "http://", "http://:80/", "http://h:0/", "http://h:65536/",
        "http://h:8x/", "http://[::1/", "http://[zz::1]/", "http://::1/", "http://h o/"}) {
    auto url = parse_url(bad);
    EXPECT_FALSE(url.has_value()) << bad;
    if (!url) {
      EXPECT_EQ(url.error().code, core::ErrorCode::kInvalidArgument);
    }
  }
}

TEST(PercentEncodingTest, QueryEscapeMatchesGo) {
  // Go: url.QueryEscape(`sum(rate(x{a="b"}[5m])) * 2`)
  EXPECT_EQ(query_escape("sum(rate(x{a=\"b\"}[5m])) * 2"),
            "sum%28rate%28x%7Ba%3D%22b%22%7D%5B5m%5D%29%29+%2A+2");
  EXPECT_EQ(query_escape("a-b_c.d~e"), "a-b_c.d~e");
  EXPECT_EQ(query_escape("é"), "%C3%A9");
}

TEST(PercentEncodingTest, PathEscapeMatchesGo) {
  // kubectl builds custom-metrics paths with url.PathEscape: "*" becomes "%2A".
  EXPECT_EQ(path_escape("*"), "%2A");
  EXPECT_EQ(path_escape("a/b c;d,e?f"), "a%2Fb%20c%3Bd%2Ce%3Ff");
  EXPECT_EQ(path_escape("$&+:=@"), "$&+:=@");
}

TEST(PercentEncodingTest, DecodeAndErrors) {
  EXPECT_EQ(*percent_decode("%2A%2a"), "**");
  EXPECT_EQ(*percent_decode("a+b"), "a+b");
  EXPECT_EQ(*percent_decode("a+b", true), "a b");
  for (const char* bad : {"%", "%2", "%zz", "a%g1"}) {
    auto decoded = percent_decode(bad);
    EXPECT_FALSE(decoded.has_value()) << bad;
  }
  EXPECT_EQ(percent_decode("%zz").error().message, "invalid URL escape \"%zz\"");
}

TEST(QueryTest, ParsesPrometheusStyleQueries) {
  auto params = parse_query("query=sum%28up%29+by+%28job%29&time=1.5&match[]=a&match[]=b&empty");
  ASSERT_OK(params);
  EXPECT_EQ(params->get("query"), "sum(up) by (job)");
  EXPECT_EQ(params->get("time"), "1.5");
  EXPECT_EQ(params->get_all("match[]"), (std::vector<std::string_view>{"a", "b"}));
  EXPECT_EQ(params->get("empty"), "");
  EXPECT_FALSE(params->get("missing").has_value());
}

TEST(QueryTest, BadPairsAreErrorsButLenientKeepsTheRest) {
  // Go 1.17+: ';' is not a separator; the pair is rejected.
  auto strict = parse_query("a=1;b=2&c=%zz&d=4");
  ASSERT_FALSE(strict.has_value());
  EXPECT_EQ(strict.error().message, "invalid semicolon separator in query");
  QueryParams lenient = parse_query_lenient("a=1;b=2&c=%zz&d=4");
  ASSERT_EQ(lenient.size(), 1u);
  EXPECT_EQ(lenient.get("d"), "4");
}

TEST(QueryTest, EncodeRoundTrips) {
  QueryParams params{{"query", "rate(x[5m]) > 0.5"}, {"labelSelector", "app in (a,b)"}};
  params.add("query", "second");
  std::string encoded = params.encode();
  EXPECT_EQ(encoded,
            "query=rate%28x%5B5m%5D%29+%3E+0.5&labelSelector=app+in+%28a%2Cb%29&query=second");
  auto back = parse_query(encoded);
  ASSERT_OK(back);
  EXPECT_EQ(back->get_all("query"), (std::vector<std::string_view>{"rate(x[5m]) > 0.5", "second"}));
  params.set("query", "only");
  EXPECT_EQ(params.get_all("query").size(), 1u);
}

}  // namespace
}  // namespace llmscale::net
