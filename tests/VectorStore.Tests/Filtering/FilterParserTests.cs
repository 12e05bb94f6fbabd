using System.Text;
using VectorStore.Filtering;
using Xunit;

namespace VectorStore.Tests.Filtering;

public class FilterParserTests
{
    private static FilterExpression P(string text) => FilterParser.Parse(text);

    /// <summary>
    /// The text of a tree parses back to the same tree: the cluster ships filters to its shards as text, so a value
    /// that printed differently (a double's last digit, a quote inside a string, an extreme int) would filter wrongly.
    /// </summary>
    [Fact]
    public void EveryTreePrintsAsTextThatParsesBackToIt()
    {
        var rng = new Random(77);
        for (int i = 0; i < 3000; i++)
        {
            var tree = FilterEvaluationTests.RandomExpression(rng, 3);
            var text = tree.ToString();
            Assert.True(Equals(tree, FilterParser.Parse(text)), $"'{text}' parsed to {FilterParser.Parse(text)}");
        }
        FilterExpression[] edges =
        [
            Filter.Eq("k", "it's \\ \"q\" ü"), Filter.Gt("d", 0.1 + 0.2), Filter.Lt("d", double.Epsilon), Filter.Ge("d", -1e300),
            Filter.Eq("i", long.MinValue), Filter.Ne("i", long.MaxValue), Filter.Contains("t", "a'b"),
            Filter.Gt("at", FieldValue.Timestamp(new DateTimeOffset(2024, 2, 29, 23, 59, 59, 999, TimeSpan.FromHours(-5)).AddTicks(1230))),
            Filter.In("k", "x", "", "y z"),
        ];
        foreach (var tree in edges) Assert.True(Equals(tree, FilterParser.Parse(tree.ToString())), $"'{tree}' parsed to {FilterParser.Parse(tree.ToString())}");
    }

    [Fact]
    public void ComparisonsOfEveryOperatorAndLiteralType()
    {
        Assert.Equal(Filter.Eq("kind", "doc"), P("kind == 'doc'"));
        Assert.Equal(Filter.Ne("kind", "doc"), P("kind!='doc'"));
        Assert.Equal(Filter.Lt("size", 3L), P("size < 3"));
        Assert.Equal(Filter.Le("size", -3L), P("size <= -3"));
        Assert.Equal(Filter.Gt("score", 1.5), P("score > 1.5"));
        Assert.Equal(Filter.Ge("score", -2e10), P("score >= -2E+10"));
        Assert.Equal(Filter.Eq("flag", true), P("flag == TRUE"));
        Assert.Equal(Filter.Eq("flag", false), P("flag == false"));
        Assert.Equal(Filter.Eq("n", long.MinValue), P("n == -9223372036854775808"));
        Assert.Equal(Filter.Eq("n", long.MaxValue), P("n == 9223372036854775807"));
        Assert.Equal(Filter.Eq("x", 1e-300), P("x == 1e-300"));
        Assert.Equal(Filter.Eq("x", 0.0), P("x == -0.0"));
        Assert.Equal(Filter.Eq("s", "it's"), P("s == 'it''s'"));
        Assert.Equal(Filter.Eq("s", ""), P("s == ''"));
        Assert.Equal(Filter.Eq("s", "''"), P("s == ''''''"));
        Assert.Equal(Filter.Ge("ts", FieldValue.Timestamp(new DateTimeOffset(2024, 5, 1, 12, 0, 0, TimeSpan.Zero))),
            P("ts >= timestamp('2024-05-01T14:00:00+02:00')"));
        Assert.Equal(Filter.Eq("ts", FieldValue.Timestamp(new DateTimeOffset(2024, 5, 1, 0, 0, 0, TimeSpan.Zero))), P("ts == TimeStamp ( '2024-05-01' )"));
        Assert.IsType<long>(((ComparisonFilter)P("x == 3")).Value.AsInt());
        Assert.Equal(FieldType.Double, ((ComparisonFilter)P("x == 3.0")).Value.Type);
    }

    [Fact]
    public void InContainsExists()
    {
        Assert.Equal(Filter.In("kind", "a", "b", 3L), P("kind in ('a', 'b', 3)"));
        Assert.Equal(Filter.In("kind", "a"), P("kind IN('a')"));
        Assert.Equal(Filter.Contains("tags", "lib"), P("tags contains 'lib'"));
        Assert.Equal(Filter.Exists("package"), P("exists(package)"));
        Assert.Equal(Filter.Exists("package"), P("EXISTS ( package )"));
    }

    [Fact]
    public void PrecedenceNotOverAndOverOr()
    {
        var a = Filter.Eq("a", 1L);
        var b = Filter.Eq("b", 2L);
        var c = Filter.Eq("c", 3L);
        Assert.Equal(new OrFilter([a, new AndFilter([b, c])]), P("a == 1 or b == 2 and c == 3"));
        Assert.Equal(new OrFilter([new AndFilter([a, b]), c]), P("a == 1 and b == 2 or c == 3"));
        Assert.Equal(new AndFilter([new NotFilter(a), b]), P("not a == 1 and b == 2"));
        Assert.Equal(new NotFilter(new AndFilter([a, b])), P("not (a == 1 and b == 2)"));
        Assert.Equal(new AndFilter([a, new OrFilter([b, c])]), P("a == 1 AND (b == 2 Or c == 3)"));
        Assert.Equal(new NotFilter(new NotFilter(a)), P("not not a == 1"));
    }

    [Fact]
    public void ChainsFlattenButParenthesesKeepTheirGrouping()
    {
        var a = Filter.Eq("a", 1L);
        var b = Filter.Eq("b", 2L);
        var c = Filter.Eq("c", 3L);
        var flat = Assert.IsType<AndFilter>(P("a == 1 and b == 2 and c == 3"));
        Assert.Equal(3, flat.Operands.Count);
        Assert.Equal(3, Assert.IsType<OrFilter>(P("a == 1 or b == 2 or c == 3")).Operands.Count);
        Assert.Equal(new AndFilter([new AndFilter([a, b]), c]), P("(a == 1 and b == 2) and c == 3"));
        Assert.Equal(a, P("((((a == 1))))"));
        // The builder flattens its chains the same way.
        Assert.Equal(flat, a.And(b).And(c));
        Assert.Equal(P("a == 1 or b == 2 or c == 3"), a.Or(b).Or(c));
    }

    [Fact]
    public void FieldsMayBeNamedLikeKeywords()
    {
        Assert.Equal(Filter.Eq("and", 1L), P("and == 1"));
        Assert.Equal(Filter.Eq("not", 1L), P("not == 1"));
        Assert.Equal(Filter.In("not", "a"), P("not in ('a')"));
        Assert.Equal(Filter.Contains("not", "a"), P("not contains 'a'"));
        Assert.Equal(new NotFilter(Filter.In("in", "a")), P("not in in ('a')"));
        Assert.Equal(new NotFilter(Filter.Eq("not", 1L)), P("not not == 1"));
        Assert.Equal(Filter.Eq("exists", true), P("exists == true"));
        Assert.Equal(Filter.Eq("timestamp", 1L), P("timestamp == 1"));
        Assert.Equal(Filter.Eq("a.b-c", 1L), P("a.b-c == 1"));
        Assert.Equal(new AndFilter([Filter.Exists("or"), Filter.Eq("in", "x")]), P("exists(or) and in == 'x'"));
    }

    [Theory]
    [InlineData("", 0, "empty")]
    [InlineData("   ", 3, "empty")]
    [InlineData("kind", 4, "expected ==, !=, <, <=, >, >=, 'in' or 'contains' after field 'kind', found the end")]
    [InlineData("kind = 'a'", 5, "expected '=='")]
    [InlineData("kind ! 'a'", 5, "expected '!='")]
    [InlineData("kind == ", 8, "expected a value after '=='")]
    [InlineData("kind == 'abc", 8, "unterminated string")]
    [InlineData("kind == 'it''s", 8, "unterminated string")]
    [InlineData("kind == 'a' and", 15, "expected a field name")]
    [InlineData("kind == 'a' xor b == 1", 12, "expected 'and', 'or' or the end")]
    [InlineData("(kind == 'a'", 12, "expected ')' to close the '(' at position 0")]
    [InlineData("kind == 'a')", 11, "expected 'and', 'or' or the end")]
    [InlineData("kind in 'a'", 8, "expected '(' after 'in'")]
    [InlineData("kind in ()", 9, "expected a value in the 'in' list")]
    [InlineData("kind in ('a' 'b')", 13, "expected ',' or ')'")]
    [InlineData("kind in ('a',)", 13, "expected a value after ','")]
    [InlineData("tags contains 3", 14, "expected a 'quoted' tag")]
    [InlineData("exists(1)", 7, "expected a field name inside exists")]
    [InlineData("exists(a", 8, "expected ')' after exists(a")]
    [InlineData("n == 9223372036854775808", 5, "outside the int64 range")]
    [InlineData("n == -9223372036854775809", 5, "outside the int64 range")]
    [InlineData("n == 1e400", 5, "outside the range of a double")]
    [InlineData("n == 1.", 7, "digit after the decimal point")]
    [InlineData("n == 1e", 7, "digit in the exponent")]
    [InlineData("n == - 1", 5, "digit after '-'")]
    [InlineData("n == 12abc", 7, "after the number")]
    [InlineData("n == .5", 5, "unexpected character '.'")]
    [InlineData("n == \"a\"", 5, "unexpected character '\"'")]
    [InlineData("n == 1 && m == 2", 7, "unexpected character '&'")]
    [InlineData("n == 1 \u0001", 7, "unexpected character U+0001")]
    [InlineData("1 == n", 0, "expected a field name")]
    [InlineData("'a' == n", 0, "expected a field name")]
    [InlineData("ts == timestamp('yesterday')", 16, "not an ISO 8601 timestamp")]
    [InlineData("ts == timestamp(3)", 16, "ISO 8601 instant inside timestamp")]
    [InlineData("ts == timestamp('2024-01-01'", 28, "expected ')' after the timestamp")]
    [InlineData("x == foo", 5, "expected a value after '=='")]
    [InlineData("not", 3, "expected a field name")]
    [InlineData("a == 1 or or b == 1", 13, "after field 'or', found 'b'")]
    public void SyntaxErrorsNameThePositionAndWhatWasExpected(string text, int position, string expected)
    {
        var e = Assert.Throws<FilterSyntaxException>(() => P(text));
        Assert.Equal(position, e.Position);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.StartsWith($"filter syntax error at position {position}: ", e.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<InvalidArgumentException>(e);
    }

    [Fact]
    public void InvalidFieldNamesAndOversizedStringsAreSyntaxErrors()
    {
        var longName = new string('f', FieldDefinition.MaxNameLength + 1);
        var e = Assert.Throws<FilterSyntaxException>(() => P($"a == 1 and {longName} == 1"));
        Assert.Equal(11, e.Position);
        Assert.Contains("not a valid field name", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<FilterSyntaxException>(() => P($"s == '{new string('x', FieldValue.MaxStringBytes + 1)}'"));
        Assert.Equal(5, e.Position);
        Assert.Contains("at most 1024 UTF-8 bytes", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<FilterSyntaxException>(() => P($"t contains '{new string('é', FieldValue.MaxStringBytes / 2 + 1)}'"));
        Assert.Contains("at most 1024 UTF-8 bytes", e.Message, StringComparison.Ordinal);
        Assert.Equal(1024, Encoding.UTF8.GetByteCount(((ComparisonFilter)P($"s == '{new string('é', 512)}'")).Value.AsKeyword()));
        e = Assert.Throws<FilterSyntaxException>(() => P("s == '\ud800'"));
        Assert.Contains("unpaired UTF-16 surrogate", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HostileNestingIsRefusedWithoutStackOverflow()
    {
        var e = Assert.Throws<FilterSyntaxException>(() => P(new string('(', 100_000)));
        Assert.Equal(FilterLimits.MaxTextLength, e.Position);
        e = Assert.Throws<FilterSyntaxException>(() => P(new string('(', 60_000) + "a == 1" + new string(')', 10)));
        Assert.Equal(FilterLimits.MaxDepth, e.Position);
        Assert.Contains("nest deeper than 32", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<FilterSyntaxException>(() => P(string.Concat(Enumerable.Repeat("not ", 16_000)) + "a == 1"));
        Assert.Equal(4 * FilterLimits.MaxDepth, e.Position);
        // Exactly at the limit is fine, one more is not, for parentheses, 'not' and connectives alike.
        Assert.IsType<ComparisonFilter>(P(new string('(', 32) + "a == 1" + new string(')', 32)));
        Assert.Throws<FilterSyntaxException>(() => P(new string('(', 33) + "a == 1" + new string(')', 33)));
        Assert.IsType<NotFilter>(P(string.Concat(Enumerable.Repeat("not ", 32)) + "a == 1"));
        // 'x and (x and (… ))': 32 parentheses but 33 levels of 'and' in the tree.
        Assert.IsType<AndFilter>(P(string.Concat(Enumerable.Repeat("a == 1 and (", 32)) + "a == 1" + new string(')', 32)));
        var deepAnd = string.Concat(Enumerable.Repeat("a == 1 and (", 32)) + "a == 1 and a == 1" + new string(')', 32);
        e = Assert.Throws<FilterSyntaxException>(() => P(deepAnd));
        Assert.Contains("nests deeper than 32 levels of and/or/not", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HugeTextsListsAndNodeCountsAreRefused()
    {
        var megabyte = "kind == '" + new string('x', 1 << 20) + "'";
        var e = Assert.Throws<FilterSyntaxException>(() => P(megabyte));
        Assert.Contains("at most 65536 are accepted", e.Message, StringComparison.Ordinal);

        var hundredK = "n in (" + string.Join(",", Enumerable.Range(0, 100_000)) + ")";
        Assert.Throws<FilterSyntaxException>(() => P(hundredK));
        var overList = "n in (" + string.Join(",", Enumerable.Repeat("1", FilterLimits.MaxInValues + 1)) + ")";
        e = Assert.Throws<FilterSyntaxException>(() => P(overList));
        Assert.Contains("at most 4096 values", e.Message, StringComparison.Ordinal);
        Assert.Equal(6 + 2 * FilterLimits.MaxInValues, e.Position);
        var fullList = "n in (" + string.Join(",", Enumerable.Repeat("1", FilterLimits.MaxInValues)) + ")";
        Assert.Equal(FilterLimits.MaxInValues, Assert.IsType<InFilter>(P(fullList)).Values.Count);

        var manyNodes = string.Join(" or ", Enumerable.Repeat("a==1", 5000));
        e = Assert.Throws<FilterSyntaxException>(() => P(manyNodes));
        Assert.Contains("more than 4096 nodes", e.Message, StringComparison.Ordinal);
        var maxNodes = string.Join(" or ", Enumerable.Repeat("a==1", FilterLimits.MaxNodes - 1));
        Assert.Equal(FilterLimits.MaxNodes - 1, Assert.IsType<OrFilter>(P(maxNodes)).Operands.Count);
    }

    [Fact]
    public void ToStringParsesBackToAnEqualTree()
    {
        for (int seed = 0; seed < 3000; seed++)
        {
            var tree = new FilterTreeGenerator(seed).Tree(seed % 10 == 0 ? FilterLimits.MaxDepth : 6);
            FilterLimits.Validate(tree);
            var text = tree.ToString();
            var parsed = P(text);
            Assert.True(tree.Equals(parsed), $"seed {seed}: '{text}' parsed as '{parsed}'");
            Assert.Equal(text, parsed.ToString());
        }
    }

    [Fact]
    public void ADepthLimitTreeRoundTrips()
    {
        FilterExpression e = Filter.Eq("a", 1L);
        for (int i = 0; i < FilterLimits.MaxDepth; i++) e = i % 3 == 0 ? new NotFilter(e) : new AndFilter([e, Filter.Exists("b")]) is var a && i % 3 == 1 ? a : new OrFilter([Filter.Exists("c"), e]);
        FilterLimits.Validate(e);
        Assert.Equal(e, P(e.ToString()));
        Assert.Throws<InvalidArgumentException>(() => FilterLimits.Validate(new NotFilter(e)));
    }

    [Fact]
    public void TreeNodesCheckTheirPartsAndValidateBoundsTheWhole()
    {
        Assert.Throws<InvalidArgumentException>(() => Filter.Eq("bad name", 1L));
        Assert.Throws<InvalidArgumentException>(() => Filter.Eq("x", FieldValue.Tags("a", "b")));
        Assert.Throws<InvalidArgumentException>(() => Filter.Eq("x", default(FieldValue)));
        Assert.Throws<InvalidArgumentException>(() => Filter.In("x"));
        Assert.Throws<InvalidArgumentException>(() => Filter.In("x", Enumerable.Range(0, FilterLimits.MaxInValues + 1).Select(i => (FieldValue)(long)i)));
        Assert.Throws<InvalidArgumentException>(() => new AndFilter([Filter.Exists("a")]));
        Assert.Throws<InvalidArgumentException>(() => new OrFilter([Filter.Exists("a"), null!]));
        Assert.Throws<InvalidArgumentException>(() => new NotFilter(null!));
        Assert.Throws<InvalidArgumentException>(() => new ComparisonFilter("x", (ComparisonOperator)9, 1L));
        Assert.Throws<InvalidArgumentException>(() => (Filter.Exists("a") as ExistsFilter)! with { Field = "1x" });

        // A million-deep chain built in code is refused by Validate without recursion.
        FilterExpression deep = Filter.Exists("a");
        for (int i = 0; i < 1_000_000; i++) deep = new NotFilter(deep);
        Assert.Contains("deeper than 32", Assert.Throws<InvalidArgumentException>(() => FilterLimits.Validate(deep)).Message, StringComparison.Ordinal);
        var wide = new OrFilter(Enumerable.Repeat(Filter.Exists("a"), 1_000_000).ToArray());
        Assert.Contains("more than 4096 nodes", Assert.Throws<InvalidArgumentException>(() => FilterLimits.Validate(wide)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TimestampsOutsideTheCalendarStillRoundTrip()
    {
        foreach (long micros in new[] { long.MinValue, long.MaxValue, 0L, -1L, 253402300799_999999L, 253402300800_000000L })
        {
            var f = Filter.Eq("ts", FieldValue.TimestampMicros(micros));
            Assert.Equal(f, P(f.ToString()));
        }
        Assert.Equal("ts == timestamp('1970-01-01T00:00:00.000001Z')", Filter.Eq("ts", FieldValue.TimestampMicros(1)).ToString());
    }
}
