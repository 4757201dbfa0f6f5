// The << >> Go-template subset: rendering as Go prints values, and clear errors.
#include "adapter/go_template.h"

#include <gtest/gtest.h>

namespace llmscale::adapter {
namespace {

std::string render(const std::string& text, const TemplateData& data) {
  auto t = GoTemplate::parse(text);
  if (!t) return "parse error: " + t.error().message;
  auto out = t->render(data);
  return out ? *out : "render error: " + out.error().message;
}

const TemplateData kData = {
    {"Series", std::string("s")},
    {"GroupBy", std::string("pod,container")},
    {"GroupBySlice", std::vector<std::string>{"pod", "container"}},
    {"LabelValuesByName", std::map<std::string, std::string>{{"pod", "a|b"}, {"namespace", "ns"}}},
    {"Empty", std::string()}};

TEST(GoTemplateTest, RendersFieldsLikeGo) {
  EXPECT_EQ(render("x <<.Series>> y", kData), "x s y");
  EXPECT_EQ(render("<<.GroupBySlice>>", kData), "[pod container]");
  EXPECT_EQ(render("<<.LabelValuesByName>>", kData), "map[namespace:ns pod:a|b]");
  EXPECT_EQ(render("<<index .LabelValuesByName \"pod\">>", kData), "a|b");
  EXPECT_EQ(render("<<index .LabelValuesByName \"missing\">>", kData), "");
  EXPECT_EQ(render("<<index .GroupBySlice 1>>", kData), "container");
  EXPECT_EQ(render("<<len .GroupBySlice>>", kData), "2");
  EXPECT_EQ(render("<<range .GroupBySlice>>[<<.>>]<<end>>", kData), "[pod][container]");
  EXPECT_EQ(render("<<if .Empty>>yes<<else>>no<<end>>", kData), "no");
  EXPECT_EQ(render("a  <<- .Series ->>  b", kData), "asb");
  EXPECT_EQ(render("<</* comment */>>x", kData), "x");
  EXPECT_EQ(render("<<\"lit\">>", kData), "lit");
}

TEST(GoTemplateTest, ReportsProblems) {
  EXPECT_EQ(render("<<.Missing>>", kData), "render error: can't evaluate field Missing");
  EXPECT_EQ(render("<<index .GroupBySlice 5>>", kData),
            "render error: error calling index: index out of range: 5");
  EXPECT_EQ(render("<<range .Series>><<end>>", kData), "render error: range can't iterate over s");
  EXPECT_EQ(render("<<if .Series>>x", kData), "parse error: missing <<end>> for <<if .Series>>");
  EXPECT_EQ(render("<<end>>", kData), "parse error: unexpected <<end>>");
  EXPECT_EQ(render("<<.Series | printf>>", kData),
            "parse error: unsupported template action <<.Series | printf>> (function \".Series\" "
            "not available)");
}

}  // namespace
}  // namespace llmscale::adapter
