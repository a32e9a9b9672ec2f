/*
 * lib_test.c — in-kernel tests of lib/: vsnprintf formats, kstrtoull and
 * kstrtoll edge cases, the command-line tokenizer and the shell's word
 * splitter. The same code is tested on the host (tests/unit/); running it here
 * checks it as the kernel compiler built it (no SSE, -mcmodel=kernel, -O2).
 * Run with ktest=lib (or ktest=all).
 */
#include <grace/cmdline.h>
#include <grace/ktest.h>
#include <grace/printk.h>
#include <grace/string.h>

#define EXPECT_FMT(expect, ...) do { \
	char _b[64]; \
	snprintf(_b, sizeof(_b), __VA_ARGS__); \
	KTEST_EXPECT_MSG(strcmp(_b, expect) == 0, "%s gave \"%s\", want \"%s\"", #__VA_ARGS__, _b, expect); \
} while (0)

KTEST(vsnprintf_formats, "lib.vsnprintf")
{
	char small[4];

	EXPECT_FMT("42", "%d", 42);
	EXPECT_FMT("-42", "%d", -42);
	EXPECT_FMT("  -42", "%5d", -42);
	EXPECT_FMT("-0042", "%05d", -42);
	EXPECT_FMT("42   |", "%-5d|", 42);
	EXPECT_FMT("+7", "%+d", 7);
	EXPECT_FMT("ff FF 0xff", "%x %X %#x", 255, 255, 255);
	EXPECT_FMT("17", "%o", 15);
	EXPECT_FMT("18446744073709551615", "%llu", ~0ULL);
	EXPECT_FMT("-9223372036854775808", "%lld", (long long)INT64_MIN);
	EXPECT_FMT("abc|  x|y  ", "%s|%3s|%-3s", "abc", "x", "y");
	EXPECT_FMT("ab", "%.2s", "abcdef");
	EXPECT_FMT("007", "%.3d", 7);
	EXPECT_FMT("c%", "%c%%", 'c');
	EXPECT_FMT("0x00000000deadbeef", "%p", (void *)0xdeadbeefUL);
	EXPECT_FMT("  12", "%*d", 4, 12);
	EXPECT_FMT("255 65535", "%hhu %hu", (unsigned char)255, (unsigned short)65535);
	EXPECT_FMT("123", "%zu", (size_t)123);
	/* Truncation: NUL-terminated, returns the full length. */
	KTEST_EXPECT(snprintf(small, sizeof(small), "%s", "hello") == 5);
	KTEST_EXPECT(strcmp(small, "hel") == 0);
	KTEST_EXPECT(snprintf(NULL, 0, "%d", 12345) == 5);
}

KTEST(kstrtox_edges, "lib.kstrtox")
{
	unsigned long long u = 7;
	long long s = 7;

	KTEST_EXPECT(kstrtoull("0", 0, &u) == 0 && u == 0);
	KTEST_EXPECT(kstrtoull("18446744073709551615", 0, &u) == 0 && u == ~0ULL);
	KTEST_EXPECT(kstrtoull("18446744073709551616", 0, &u) == -1);
	KTEST_EXPECT(kstrtoull("0xffffffffffffffff", 0, &u) == 0 && u == ~0ULL);
	KTEST_EXPECT(kstrtoull("0x10000000000000000", 0, &u) == -1);
	KTEST_EXPECT(kstrtoull("0x1F", 0, &u) == 0 && u == 31);
	KTEST_EXPECT(kstrtoull("010", 0, &u) == 0 && u == 8);
	KTEST_EXPECT(kstrtoull("09", 0, &u) == -1);
	KTEST_EXPECT(kstrtoull("", 0, &u) == -1);
	KTEST_EXPECT(kstrtoull("0x", 0, &u) == -1 || u == 0);
	KTEST_EXPECT(kstrtoull("12abc", 0, &u) == -1);
	KTEST_EXPECT(kstrtoull(" 1", 0, &u) == -1);
	KTEST_EXPECT(kstrtoull("-1", 0, &u) == -1);
	KTEST_EXPECT(kstrtoull("+5", 10, &u) == 0 && u == 5);
	KTEST_EXPECT(kstrtoull("z", 36, &u) == 0 && u == 35);
	KTEST_EXPECT(kstrtoll("-9223372036854775808", 0, &s) == 0 && s == INT64_MIN);
	KTEST_EXPECT(kstrtoll("-9223372036854775809", 0, &s) == -1);
	KTEST_EXPECT(kstrtoll("9223372036854775807", 0, &s) == 0 && s == INT64_MAX);
	KTEST_EXPECT(kstrtoll("9223372036854775808", 0, &s) == -1);
	KTEST_EXPECT(kstrtoll("--1", 0, &s) == -1);
	KTEST_EXPECT(kstrtoll("-", 0, &s) == -1);
}

KTEST(cmdline_tokens, "cmdline.tokens")
{
	const char *line = "  a=1 bare \"q=x y\" s=\"one; two\" e= t=\"open";
	struct cmdline_token tok;
	char v[32];
	const char *p = line;

	p = cmdline_next_token(p, &tok);
	KTEST_EXPECT(p && tok.name_len == 1 && tok.name[0] == 'a' && tok.value_len == 1);
	p = cmdline_next_token(p, &tok);
	KTEST_EXPECT(p && tok.name_len == 4 && !tok.value);
	p = cmdline_next_token(p, &tok);
	cmdline_unquote(tok.name, tok.name_len, v, sizeof(v));
	KTEST_EXPECT(p && strcmp(v, "q") == 0);
	cmdline_unquote(tok.value, tok.value_len, v, sizeof(v));
	KTEST_EXPECT(strcmp(v, "x y") == 0);
	p = cmdline_next_token(p, &tok);
	cmdline_unquote(tok.value, tok.value_len, v, sizeof(v));
	KTEST_EXPECT(p && strcmp(v, "one; two") == 0);
	p = cmdline_next_token(p, &tok);
	KTEST_EXPECT(p && tok.value && tok.value_len == 0);
	p = cmdline_next_token(p, &tok);
	KTEST_EXPECT(p && tok.unterminated);
	KTEST_EXPECT(cmdline_next_token(p, &tok) == NULL);
	KTEST_EXPECT(cmdline_unquote("\"abcdef\"", 8, v, 4) == 6 && strcmp(v, "abc") == 0);
}

KTEST(cmdline_values, "cmdline.values")
{
	long long v = 0;
	bool b = false;

	KTEST_EXPECT(cmdline_parse_int("100", 10, 1000, &v) == CMDLINE_OK && v == 100);
	KTEST_EXPECT(cmdline_parse_int("0x3e8", 10, 1000, &v) == CMDLINE_OK && v == 1000);
	KTEST_EXPECT(cmdline_parse_int("1001", 10, 1000, &v) == CMDLINE_OUT_OF_RANGE);
	KTEST_EXPECT(cmdline_parse_int("abc", 10, 1000, &v) == CMDLINE_NOT_NUMBER);
	KTEST_EXPECT(cmdline_parse_int("-5", -10, 10, &v) == CMDLINE_OK && v == -5);
	KTEST_EXPECT(cmdline_parse_int("99999999999999999999", 0, 1, &v) == CMDLINE_OUT_OF_RANGE);
	KTEST_EXPECT(cmdline_parse_bool("on", &b) == 0 && b);
	KTEST_EXPECT(cmdline_parse_bool("False", &b) == 0 && !b);
	KTEST_EXPECT(cmdline_parse_bool("2", &b) == -1);
}

KTEST(shell_tokenize, "shell.tokenize")
{
	char line[64] = "  echo \"hello world\"  x\"y z\"w  ";
	char *argv[8];
	char cmd[32];
	bool trunc;
	const char *p;

	KTEST_EXPECT(cmdline_split_args(line, argv, 7) == 3);
	KTEST_EXPECT(strcmp(argv[0], "echo") == 0 && strcmp(argv[1], "hello world") == 0);
	KTEST_EXPECT(strcmp(argv[2], "xy zw") == 0 && argv[3] == NULL);
	strlcpy(line, "a b c d", sizeof(line));
	KTEST_EXPECT(cmdline_split_args(line, argv, 3) == CMDLINE_SPLIT_TOO_MANY);
	strlcpy(line, "a \"b", sizeof(line));
	KTEST_EXPECT(cmdline_split_args(line, argv, 3) == CMDLINE_SPLIT_UNTERMINATED);

	p = cmdline_next_command(" help ; echo \"a;b\";;poweroff", cmd, sizeof(cmd), &trunc);
	KTEST_EXPECT(p && strcmp(cmd, "help") == 0 && !trunc);
	p = cmdline_next_command(p, cmd, sizeof(cmd), &trunc);
	KTEST_EXPECT(p && strcmp(cmd, "echo \"a;b\"") == 0);
	p = cmdline_next_command(p, cmd, sizeof(cmd), &trunc);
	KTEST_EXPECT(p && cmd[0] == '\0');
	p = cmdline_next_command(p, cmd, sizeof(cmd), &trunc);
	KTEST_EXPECT(p && strcmp(cmd, "poweroff") == 0);
	KTEST_EXPECT(cmdline_next_command(p, cmd, sizeof(cmd), &trunc) == NULL);
}
