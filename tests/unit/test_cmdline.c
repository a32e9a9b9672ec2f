// UNIT_SOURCES: lib/cmdline.c lib/kstrtox.c
/*
 * test_cmdline.c — host tests of lib/cmdline.c: tokens, quoting, value
 * parsing (ints with ranges, booleans), the shell's word splitter and the
 * autorun command splitter, malformed and huge input, and a small random
 * fuzz loop. Built with ASan/UBSan by the unit harness:
 *   cc -std=c11 -g -fsanitize=address,undefined -Iinclude -Iarch/x86_64/include \
 *      -Itests/unit tests/unit/test_cmdline.c lib/cmdline.c lib/kstrtox.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grace/cmdline.h>

static int failures;

#define CHECK(cond) do { \
	if (!(cond)) { \
		printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		failures++; \
	} \
} while (0)

/* Tokenize `line` and render it as "name=value|name|..." with quotes stripped. */
static void render(const char *line, char *out, size_t size)
{
	struct cmdline_token t;
	const char *p = line;
	size_t n = 0;

	out[0] = '\0';
	while ((p = cmdline_next_token(p, &t))) {
		char name[64], value[256];

		cmdline_unquote(t.name, t.name_len, name, sizeof(name));
		if (t.value) {
			cmdline_unquote(t.value, t.value_len, value, sizeof(value));
			n += (size_t)snprintf(out + n, size - n, "%s%s=%s", n ? "|" : "", name, value);
		} else {
			n += (size_t)snprintf(out + n, size - n, "%s%s", n ? "|" : "", name);
		}
		if (t.unterminated)
			n += (size_t)snprintf(out + n, size - n, "(open)");
	}
}

static void expect_tokens(const char *line, const char *want)
{
	char got[1024];

	render(line, got, sizeof(got));
	if (strcmp(got, want) != 0) {
		printf("FAIL tokens of [%s]: got [%s], want [%s]\n", line, got, want);
		failures++;
	}
}

static void test_tokens(void)
{
	expect_tokens("", "");
	expect_tokens("   \t\n ", "");
	expect_tokens("a", "a");
	expect_tokens("a=1 b=2", "a=1|b=2");
	expect_tokens("  timer.hz=100   debug  ", "timer.hz=100|debug");
	expect_tokens("autorun=\"help; params; echo hi\" x=1", "autorun=help; params; echo hi|x=1");
	expect_tokens("\"autorun=a b\" c", "autorun=a b|c");
	expect_tokens("s=a\"b c\"d", "s=ab cd");
	expect_tokens("e=", "e=");
	expect_tokens("e=\"\"", "e=");
	expect_tokens("=v", "=v");
	expect_tokens("a=b=c", "a=b=c");
	expect_tokens("x=\"open ended", "x=open ended(open)");
	expect_tokens("\"", "(open)");
	expect_tokens("a\nb\tc\rd", "a|b|c|d");
	expect_tokens("k=\"a\tb\"", "k=a\tb");
}

static void test_unquote(void)
{
	char buf[8];

	CHECK(cmdline_unquote("\"abc\"", 5, buf, sizeof(buf)) == 3 && !strcmp(buf, "abc"));
	CHECK(cmdline_unquote("abcdefghij", 10, buf, sizeof(buf)) == 10 && !strcmp(buf, "abcdefg"));
	CHECK(cmdline_unquote("abc", 3, buf, 1) == 3 && buf[0] == '\0');
	CHECK(cmdline_unquote("abc", 3, NULL, 0) == 3); /* size 0: nothing written */
	CHECK(cmdline_unquote("ab\0cd", 5, buf, sizeof(buf)) == 2); /* stops at NUL */
	CHECK(cmdline_unquote("\"\"\"\"", 4, buf, sizeof(buf)) == 0 && buf[0] == '\0');
}

static void test_ints(void)
{
	long long v = 12345;

	CHECK(cmdline_parse_int("100", 10, 1000, &v) == CMDLINE_OK && v == 100);
	CHECK(cmdline_parse_int("10", 10, 1000, &v) == CMDLINE_OK && v == 10);
	CHECK(cmdline_parse_int("1000", 10, 1000, &v) == CMDLINE_OK && v == 1000);
	CHECK(cmdline_parse_int("9", 10, 1000, &v) == CMDLINE_OUT_OF_RANGE && v == 1000);
	CHECK(cmdline_parse_int("1001", 10, 1000, &v) == CMDLINE_OUT_OF_RANGE);
	CHECK(cmdline_parse_int("0x10", 0, 100, &v) == CMDLINE_OK && v == 16);
	CHECK(cmdline_parse_int("0X1f", 0, 100, &v) == CMDLINE_OK && v == 31);
	CHECK(cmdline_parse_int("-0x10", -100, 100, &v) == CMDLINE_OK && v == -16);
	CHECK(cmdline_parse_int("+7", 0, 100, &v) == CMDLINE_OK && v == 7);
	CHECK(cmdline_parse_int("010", 0, 100, &v) == CMDLINE_OK && v == 10); /* not octal */
	CHECK(cmdline_parse_int("-1", 0, 100, &v) == CMDLINE_OUT_OF_RANGE);
	CHECK(cmdline_parse_int("abc", 0, 100, &v) == CMDLINE_NOT_NUMBER);
	CHECK(cmdline_parse_int("", 0, 100, &v) == CMDLINE_NOT_NUMBER);
	CHECK(cmdline_parse_int("-", 0, 100, &v) == CMDLINE_NOT_NUMBER);
	CHECK(cmdline_parse_int("0x", 0, 100, &v) == CMDLINE_NOT_NUMBER);
	CHECK(cmdline_parse_int("12abc", 0, 100, &v) == CMDLINE_NOT_NUMBER);
	CHECK(cmdline_parse_int("1 2", 0, 100, &v) == CMDLINE_NOT_NUMBER);
	CHECK(cmdline_parse_int("0xfg", 0, 100, &v) == CMDLINE_NOT_NUMBER);
	CHECK(cmdline_parse_int("--1", -10, 100, &v) == CMDLINE_NOT_NUMBER);
	CHECK(cmdline_parse_int("1.5", 0, 100, &v) == CMDLINE_NOT_NUMBER);
	CHECK(cmdline_parse_int("99999999999999999999", 0, 100, &v) == CMDLINE_OUT_OF_RANGE);
	CHECK(cmdline_parse_int("9223372036854775807", INT64_MIN, INT64_MAX, &v) == CMDLINE_OK &&
	      v == INT64_MAX);
	CHECK(cmdline_parse_int("-9223372036854775808", INT64_MIN, INT64_MAX, &v) == CMDLINE_OK &&
	      v == INT64_MIN);
	CHECK(cmdline_parse_int("9223372036854775808", INT64_MIN, INT64_MAX, &v) ==
	      CMDLINE_OUT_OF_RANGE);
}

static void test_bools(void)
{
	static const char *const yes[] = { "1", "y", "Y", "yes", "YES", "on", "On", "true", "TRUE" };
	static const char *const no[] = { "0", "n", "N", "no", "off", "OFF", "false", "False" };
	static const char *const bad[] = { "", "2", "yess", "ye", "tru", "of", "onn", "-1", "t" };
	bool b;

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		b = false;
		CHECK(cmdline_parse_bool(yes[i], &b) == 0 && b);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		b = true;
		CHECK(cmdline_parse_bool(no[i], &b) == 0 && !b);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = true;
		CHECK(cmdline_parse_bool(bad[i], &b) == -1 && b);
	}
}

static void test_split_args(void)
{
	char line[128];
	char *argv[5];

	strcpy(line, "  echo \"hello world\"  x\"y z\"w  ");
	CHECK(cmdline_split_args(line, argv, 4) == 3);
	CHECK(!strcmp(argv[0], "echo") && !strcmp(argv[1], "hello world") && !strcmp(argv[2], "xy zw"));
	CHECK(argv[3] == NULL);

	strcpy(line, "");
	CHECK(cmdline_split_args(line, argv, 4) == 0 && argv[0] == NULL);
	strcpy(line, "one");
	CHECK(cmdline_split_args(line, argv, 4) == 1 && !strcmp(argv[0], "one"));
	strcpy(line, "a b c d");
	CHECK(cmdline_split_args(line, argv, 4) == 4); /* exactly full: no NULL slot needed */
	strcpy(line, "a b c d e");
	CHECK(cmdline_split_args(line, argv, 4) == CMDLINE_SPLIT_TOO_MANY);
	strcpy(line, "a \"b c");
	CHECK(cmdline_split_args(line, argv, 4) == CMDLINE_SPLIT_UNTERMINATED);
	strcpy(line, "\"\" x");
	CHECK(cmdline_split_args(line, argv, 4) == 2 && argv[0][0] == '\0' && !strcmp(argv[1], "x"));
}

static void test_commands(void)
{
	char cmd[16];
	bool trunc;
	const char *p = "help; params ;echo \"a;b\";; ;poweroff";
	const char *want[] = { "help", "params", "echo \"a;b\"", "", "", "poweroff" };
	size_t i = 0;

	while ((p = cmdline_next_command(p, cmd, sizeof(cmd), &trunc))) {
		CHECK(i < 6);
		if (i < 6 && strcmp(cmd, want[i]) != 0) {
			printf("FAIL command %zu: got [%s] want [%s]\n", i, cmd, want[i]);
			failures++;
		}
		CHECK(!trunc);
		i++;
	}
	CHECK(i == 6);

	p = cmdline_next_command("a-very-long-command-name here", cmd, sizeof(cmd), &trunc);
	CHECK(p && trunc && strlen(cmd) == sizeof(cmd) - 1);
	CHECK(cmdline_next_command("", cmd, sizeof(cmd), &trunc) == NULL);
	/* ';' inside an open quote does not split: the rest is one command. */
	p = cmdline_next_command("echo \"x;y", cmd, sizeof(cmd), &trunc);
	CHECK(p && !strcmp(cmd, "echo \"x;y") && *p == '\0');
}

/* A huge line with no blanks, with and without an open quote. */
static void test_huge(void)
{
	size_t n = 1 << 20;
	char *big = malloc(n + 1);
	struct cmdline_token t;
	char small[32];
	char *argv[4];

	memset(big, 'x', n);
	big[n] = '\0';
	big[5] = '=';
	CHECK(cmdline_next_token(big, &t) == big + n && t.name_len == 5 && t.value_len == n - 6);
	CHECK(cmdline_unquote(t.value, t.value_len, small, sizeof(small)) == n - 6);
	CHECK(strlen(small) == sizeof(small) - 1);

	big[0] = '"';
	CHECK(cmdline_next_token(big, &t) == big + n && t.unterminated);

	memset(big, ' ', n); /* a million blanks */
	CHECK(cmdline_next_token(big, &t) == NULL);

	for (size_t i = 0; i < n; i++)
		big[i] = (i % 2) ? ' ' : 'a';
	CHECK(cmdline_split_args(big, argv, 3) == CMDLINE_SPLIT_TOO_MANY);
	free(big);
}

/* Random bytes: nothing may crash or run past a buffer (ASan watches). */
static void test_fuzz(void)
{
	static const char alphabet[] = "ab=\" ;\t\n0x1-+";
	unsigned int seed = 12345;
	char line[64], copy[64], out[8];
	char *argv[6];

	for (int iter = 0; iter < 200000; iter++) {
		size_t len = (seed = seed * 1103515245 + 12345) >> 16 & 63;

		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245 + 12345;
			line[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		line[len] = '\0';

		struct cmdline_token t;
		const char *p = line;
		int guard = 0;

		while ((p = cmdline_next_token(p, &t)) && guard++ < 100) {
			CHECK(t.raw >= line && t.raw + t.raw_len <= line + len);
			CHECK(t.name_len <= t.raw_len);
			if (t.value)
				CHECK(t.value + t.value_len == t.raw + t.raw_len);
			cmdline_unquote(t.raw, t.raw_len, out, sizeof(out));
			long long v;
			bool b;
			char *val = malloc(t.raw_len + 1);
			memcpy(val, t.raw, t.raw_len);
			val[t.raw_len] = '\0';
			(void)cmdline_parse_int(val, -5, 5, &v);
			(void)cmdline_parse_bool(val, &b);
			free(val);
		}
		CHECK(guard < 100);

		memcpy(copy, line, len + 1);
		int argc = cmdline_split_args(copy, argv, 5);
		for (int i = 0; i < argc; i++)
			CHECK(argv[i] >= copy && argv[i] < copy + sizeof(copy));

		p = line;
		bool trunc;
		guard = 0;
		while ((p = cmdline_next_command(p, out, sizeof(out), &trunc)) && guard++ < 100)
			CHECK(strlen(out) < sizeof(out));
		CHECK(guard < 100);
	}
}

int main(void)
{
	test_tokens();
	test_unquote();
	test_ints();
	test_bools();
	test_split_args();
	test_commands();
	test_huge();
	test_fuzz();
	if (failures) {
		printf("test_cmdline: %d failures\n", failures);
		return 1;
	}
	printf("test_cmdline: all passed\n");
	return 0;
}
