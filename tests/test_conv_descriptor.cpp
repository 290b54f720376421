// benchdnn convolution descriptors: every field, every default, one message per way a descriptor or a shape
// file can be wrong, and the standard shape files in bench/shapes/.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/conv/conv_descriptor.hpp"

namespace {

using convlab::ConvDescriptor;
using convlab::ConvDescriptorError;
using convlab::ConvShape;
using convlab::Index;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

ConvDescriptor parse(const std::string& text, Index default_batch = 7) {
  return convlab::parse_conv_descriptor(text, default_batch);
}

ConvShape shape_of(Index batch, Index channels, Index height, Index width, Index filters, Index kernel_height,
                   Index kernel_width, Index stride_height, Index stride_width, Index pad_height, Index pad_width) {
  ConvShape s;
  s.batch = batch;
  s.in_channels = channels;
  s.in_height = height;
  s.in_width = width;
  s.out_channels = filters;
  s.kernel_height = kernel_height;
  s.kernel_width = kernel_width;
  s.stride_height = stride_height;
  s.stride_width = stride_width;
  s.pad_height = pad_height;
  s.pad_width = pad_width;
  return s;
}

// The parse must fail, and its message contain every one of `parts`.
void require_error(const std::string& text, std::initializer_list<std::string> parts) {
  try {
    parse(text);
    FAIL("no error for '" << text << "'");
  } catch (const ConvDescriptorError& error) {
    const std::string message = error.what();
    INFO("descriptor: " << text << "\nmessage: " << message);
    for (const std::string& part : parts) CHECK_THAT(message, Contains(part));
  }
}

std::vector<ConvDescriptor> standard_file(const std::string& suite) {
  return convlab::read_conv_descriptor_file(fs::path(CONVLAB_SOURCE_DIR) / "bench" / "shapes" / (suite + ".txt"), 64);
}

const ConvDescriptor& named(const std::vector<ConvDescriptor>& descriptors, const std::string& name) {
  for (const ConvDescriptor& d : descriptors) {
    if (d.name == name) return d;
  }
  FAIL("no shape named " << name);
  return descriptors.front();
}

}  // namespace

TEST_CASE("descriptor: benchdnn's examples", "[descriptor]") {
  const ConvDescriptor conv2 = parse("mb64ic20ih24oc50oh10kh5sh2n\"conv2_s2\"");
  CHECK(conv2.name == "conv2_s2");
  CHECK(conv2.batch_given);
  CHECK(conv2.line == 0);
  CHECK(conv2.shape == shape_of(64, 20, 24, 24, 50, 5, 5, 2, 2, 0, 0));

  const ConvDescriptor resnet = parse("mb1_ic3oc64_ih224oh112kh7sh2ph3n\"resnet_50:conv1\"");
  CHECK(resnet.name == "resnet_50:conv1");
  CHECK(resnet.shape == shape_of(1, 3, 224, 224, 64, 7, 7, 2, 2, 3, 3));
  CHECK(resnet.shape.out_height() == 112);
}

TEST_CASE("descriptor: every field given", "[descriptor]") {
  const ConvDescriptor d = parse("mb3g1ic4ih11iw13oc5oh6ow4kh3kw2sh2sw3ph1pw0dh0dw0n\"all fields\"");
  CHECK(d.name == "all fields");
  CHECK(d.batch_given);
  CHECK(d.shape == shape_of(3, 4, 11, 13, 5, 3, 2, 2, 3, 1, 0));
  CHECK(d.shape.out_height() == 6);
  CHECK(d.shape.out_width() == 4);
  // Fields in any order, underscores anywhere between groups, the name anywhere.
  CHECK(parse("n\"x\"_kh3__oc5_ih11ic4_").shape == parse("ic4ih11oc5kh3").shape);
}

TEST_CASE("descriptor: benchdnn's defaults", "[descriptor]") {
  const ConvDescriptor d = parse("ic2ih9oc3kh3", 7);
  CHECK_FALSE(d.batch_given);
  CHECK(d.name == "ic2ih9oc3kh3");  // the descriptor itself
  CHECK(d.shape == shape_of(7, 2, 9, 9, 3, 3, 3, 1, 1, 0, 0));
  // Width fields default to the height's: iw = ih, kw = kh, sw = sh, pw = ph.
  CHECK(parse("ic2ih9oc3kh3sh2ph1").shape == shape_of(7, 2, 9, 9, 3, 3, 3, 2, 2, 1, 1));
  // Giving a width field does not change the height's.
  CHECK(parse("ic2ih9iw12oc3kh3kw1sh2sw1ph1pw0").shape == shape_of(7, 2, 9, 12, 3, 3, 1, 2, 1, 1, 0));
}

TEST_CASE("descriptor: padding solved from the output size", "[descriptor]") {
  CHECK(parse("ic3ih224oc64oh112kh7sh2").shape.pad_height == 3);  // ResNet's first layer without ph
  CHECK(parse("ic1ih24oc1oh24kh3").shape.pad_width == 1);          // pw follows the solved ph
  const ConvShape s = parse("ic1ih24iw30oc1oh24ow32kh3").shape;   // each axis solved on its own
  CHECK(s.pad_height == 1);
  CHECK(s.pad_width == 2);
  CHECK(s.out_width() == 32);
  CHECK(parse("ic1ih56oc1oh28kh1sh2").shape.pad_height == 0);  // a 1x1 stride-2 layer needs none
  CHECK(parse("ic1ih24oc1oh20kh5").shape.pad_height == 0);
  // Given padding is kept and the given output checked.
  CHECK(parse("ic1ih24oc1oh22kh3ph0").shape.pad_height == 0);
}

TEST_CASE("descriptor: an output size that does not match", "[descriptor]") {
  require_error("ic1ih24oc1oh10kh5ph0", {"at character 11", "oh10 does not match the output height 20",
                                         "that ih24, kh5, sh1, ph0 give"});
  require_error("ic1ih24iw30oc1ow10kh5pw0", {"ow10 does not match the output width 26", "iw30, kw5, sw1, pw0"});
  require_error("ic1ih24oc1oh24kh4", {"no whole-number padding gives oh24 with ih24, kh4, sh1: give ph explicitly"});
  require_error("ic1ih24oc1oh10kh5", {"at character 11", "no whole-number padding gives oh10"});
  require_error("ic1ih24iw20oc1ow22kh4", {"no whole-number padding gives ow22 with iw20, kw4, sw1: give pw"});
}

TEST_CASE("descriptor: unknown fields and characters", "[descriptor]") {
  require_error("mb2ic3ih9oc5kh3sh2x", {"descriptor 'mb2ic3ih9oc5kh3sh2x'", "at character 19", "unknown field 'x'",
                                        "known: mb g ic"});
  require_error("ic3ih9oc5kh3foo7", {"at character 13", "unknown field 'foo'"});
  require_error("ic3id9ih9oc5kh3", {"at character 4", "'id' is a 3-D (depth) field"});
  require_error("ic3ih9 oc5kh3", {"at character 7", "unexpected ' ' where a field was expected"});
  require_error("ic3ih9oc5kh3!", {"unexpected '!'"});
  require_error(std::string("ic3ih9\x01oc5kh3"), {"unexpected byte 0x01", "descriptor 'ic3ih9?oc5kh3'"});
  require_error("--dir=FWD_B", {"benchdnn options such as --dir=... are not supported"});
  require_error("", {"empty descriptor"});
}

TEST_CASE("descriptor: numbers", "[descriptor]") {
  require_error("ic3ih9oc5kh", {"at character 12", "missing number after 'kh' at the end"});
  require_error("icih9oc5kh3", {"at character 3", "missing number after 'ic', found 'i'"});
  require_error("ic3ih9oc5kh3ph-1", {"at character 15", "'ph' must be followed by a whole number without a sign",
                                     "found '-'", "negative values are not allowed"});
  require_error("ic3ih9oc5kh+3", {"'kh' must be followed by a whole number without a sign, found '+'"});
  require_error("ic99999999999999999999999ih9oc5kh3",
                {"at character 3", "number 99999999999999999999999 after 'ic' is too large (at most 2147483647)"});
  require_error("ic2147483648ih9oc5kh3", {"number 2147483648 after 'ic' is too large"});
  // The largest number passes the parser; the shape's element counts are what stop it.
  require_error("mb2147483647ic2147483647ih9oc5kh3", {"the input has too many elements"});
  require_error("ic1ih2147483647iw2147483647oc2147483647kh1", {"has too many elements"});
  CHECK(parse("ic0003ih9oc5kh3").shape.in_channels == 3);
}

TEST_CASE("descriptor: duplicates, zeros and unsupported values", "[descriptor]") {
  require_error("ic3ih9oc5kh3ic4", {"at character 13", "duplicate field 'ic' (already given at character 1)"});
  for (const std::string field : {"mb", "ic", "ih", "iw", "oc", "oh", "ow", "kh", "kw", "sh", "sw"}) {
    std::string others;  // the required fields but this one, so the zero is not also a duplicate
    for (const std::string required : {"ic3", "ih9", "oc5", "kh3"}) {
      if (!required.starts_with(field)) others += required;
    }
    require_error(field + "0" + others, {"at character 1", "'" + field + "' must be at least 1, got " + field + "0"});
  }
  require_error("g2ic4ih9oc4kh3", {"at character 1", "g2: only g1 is supported"});
  require_error("g0ic4ih9oc4kh3", {"g0: only g1 is supported"});
  require_error("ic4ih9oc4kh3dh1", {"at character 13", "dh1: only dilation 0 (benchdnn's 'none') is supported"});
  require_error("ic4ih9oc4kh3dw2", {"dw2: only dilation 0"});
  require_error("mb2ih9kh3", {"missing ic, oc (a descriptor needs ic, oc, ih and kh)"});
  require_error("ic1oc1", {"missing ih, kh"});
  require_error("ic1ih9oc1kh10", {"window of 10 is larger than the padded input of 9"});
}

TEST_CASE("descriptor: names", "[descriptor]") {
  CHECK(parse("ic1ih5oc1kh1n\"a b/c:d#e\"").name == "a b/c:d#e");
  require_error("ic1ih5oc1kh1n\"conv1", {"at character 13", "unterminated quote in name"});
  require_error("ic1ih5oc1kh1n", {"n must be followed by a quoted name, e.g. n\"conv1\""});
  require_error("ic1ih5oc1kh1nconv1", {"n must be followed by a quoted name"});
  require_error("ic1ih5oc1kh1n\"\"", {"empty name"});
  require_error("n\"a\"ic1ih5oc1kh1n\"b\"", {"at character 17", "duplicate name (already given at character 1)"});
  require_error(std::string("ic1ih5oc1kh1n\"a\tb\""), {"at character 16", "printable ASCII only, found byte 0x09"});
}

TEST_CASE("descriptor: long input is cut in the message", "[descriptor]") {
  const std::string text = "ic1ih5oc1kh1" + std::string(200, '_') + "x";
  try {
    parse(text);
    FAIL("no error");
  } catch (const ConvDescriptorError& error) {
    const std::string message = error.what();
    CHECK_THAT(message, Contains("...': at character 213: unknown field 'x'"));
    CHECK(message.size() < 250);
  }
}

TEST_CASE("descriptor: shape-file lines", "[descriptor]") {
  const auto parsed = convlab::parse_conv_descriptor_lines(
      "# a comment\n\n  ic1ih5oc1kh1  # trailing comment\r\n\tic2ih5oc1kh3n\"with # inside\"\n", "s.txt", 9);
  REQUIRE(parsed.size() == 2);
  CHECK(parsed[0].line == 3);
  CHECK(parsed[0].shape.batch == 9);
  CHECK(parsed[1].line == 4);
  CHECK(parsed[1].name == "with # inside");
  try {
    convlab::parse_conv_descriptor_lines("ic1ih5oc1kh1\n# ok\nic1ih5oc1kh1x\n", "s.txt", 9);
    FAIL("no error");
  } catch (const ConvDescriptorError& error) {
    CHECK(std::string(error.what()) ==
          "s.txt:3: descriptor 'ic1ih5oc1kh1x': at character 13: unknown field 'x' (known: mb g ic ih iw oc oh ow kh "
          "kw sh sw ph pw dh dw n\"name\")");
  }
  CHECK_THROWS_WITH(convlab::parse_conv_descriptor_lines("# nothing\n\n", "s.txt", 9), "s.txt: holds no descriptors");
}

TEST_CASE("descriptor: shape files that cannot be read", "[descriptor]") {
  CHECK_THROWS_WITH(convlab::read_conv_descriptor_file("/nonexistent/s.txt", 1),
                    "/nonexistent/s.txt: cannot open: No such file or directory");
  CHECK_THROWS_WITH(convlab::read_conv_descriptor_file(CONVLAB_SOURCE_DIR, 1),
                    std::string(CONVLAB_SOURCE_DIR) + ": cannot open: it is a folder");
  CHECK_THROWS_WITH(convlab::read_conv_descriptor_file("/dev/zero", 1), "/dev/zero: cannot open: not a regular file");
  const fs::path big = fs::temp_directory_path() / ("convlab_test_shapes_" + std::to_string(::getpid()) + ".txt");
  {
    std::ofstream out(big);
    out << std::string(convlab::kMaxShapeFileBytes, '#') << "\n";
  }
  CHECK_THROWS_WITH(convlab::read_conv_descriptor_file(big, 1),
                    big.string() + ": larger than 1048576 bytes: not a shape file");
  fs::remove(big);
}

TEST_CASE("descriptor: the standard shape files", "[descriptor]") {
  const auto mnist = standard_file("mnist");
  REQUIRE(mnist.size() == 5);
  CHECK(named(mnist, "lecture1").shape == shape_of(64, 1, 28, 28, 20, 5, 5, 1, 1, 0, 0));
  CHECK(named(mnist, "lecture1_s4").shape.out_height() == 6);
  CHECK(named(mnist, "lecture1_s4").shape.stride_width == 4);
  CHECK(named(mnist, "conv2_s1").shape == shape_of(64, 20, 24, 24, 50, 5, 5, 1, 1, 0, 0));
  CHECK(named(mnist, "conv2_s2").shape == shape_of(64, 20, 24, 24, 50, 5, 5, 2, 2, 0, 0));
  CHECK(named(mnist, "pad3x3").shape == shape_of(64, 20, 24, 24, 20, 3, 3, 1, 1, 1, 1));

  const auto resnet = standard_file("resnet");
  REQUIRE(resnet.size() == 5);
  CHECK(named(resnet, "resnet_50:conv1").shape == shape_of(4, 3, 224, 224, 64, 7, 7, 2, 2, 3, 3));
  const ConvShape downsample = named(resnet, "resnet_50:res3a_branch2a").shape;
  CHECK(downsample == shape_of(16, 256, 56, 56, 128, 1, 1, 2, 2, 0, 0));
  CHECK(downsample.out_height() == 28);

  const auto deepbench = standard_file("deepbench");
  REQUIRE(deepbench.size() == 5);
  const ConvShape speech = named(deepbench, "deepbench:speech_c1").shape;
  CHECK(speech == shape_of(4, 1, 161, 700, 32, 5, 20, 2, 2, 0, 0));
  CHECK(named(deepbench, "deepbench:inception_5x5_f48").shape.out_channels == 48);

  const auto tails = standard_file("tails");
  REQUIRE(tails.size() == 6);
  CHECK(named(tails, "c3_to_17_5x5").shape.out_channels == 17);
  const ConvShape stride3 = named(tails, "s3_3x3_35x53").shape;
  CHECK(stride3.stride_height == 3);
  CHECK(stride3.out_width() == 17);

  // Every line's batch makes a forward call of roughly 0.3-2 GFLOP; the lecture layer keeps its minibatch.
  for (const auto* file : {&mnist, &resnet, &deepbench, &tails}) {
    for (const ConvDescriptor& d : *file) {
      INFO(d.name << ": " << d.shape.describe());
      CHECK(d.batch_given);
      if (d.name == "lecture1") continue;
      CHECK(d.shape.forward_flops() >= 0.25e9);
      CHECK(d.shape.forward_flops() <= 2e9);
    }
  }
}
