using System.Globalization;
using System.Text;

namespace VectorStore.Filtering;

/// <summary>
/// Parses the filter language into a <see cref="FilterExpression"/> tree. Grammar (keywords case-insensitive):
/// <code>
/// expr    := and ('or' and)*
/// and     := unary ('and' unary)*
/// unary   := 'not' unary | primary
/// primary := '(' expr ')' | 'exists' '(' FIELD ')'
///          | FIELD ('==' | '!=' | '&lt;' | '&lt;=' | '&gt;' | '&gt;=') literal
///          | FIELD 'in' '(' literal (',' literal)* ')' | FIELD 'contains' STRING
/// literal := STRING | INT | DOUBLE | 'true' | 'false' | 'timestamp' '(' STRING ')'
/// </code>
/// STRING is single-quoted with <c>''</c> for a quote inside; INT is <c>-?digits</c> (an int64; out of range is an
/// error), DOUBLE has a fraction or exponent (<c>-1.5</c>, <c>2e10</c>); FIELD follows
/// <see cref="FieldDefinition.IsValidName"/>. A field may be named like a keyword: a word at the start of an operand
/// is a field unless it is <c>not</c> or <c>exists(</c> used as such. A chain <c>a and b and c</c> becomes one
/// <see cref="AndFilter"/> with three operands; parentheses keep their grouping (<c>(a and b) and c</c> stays nested),
/// so the <see cref="FilterExpression.ToString"/> of every tree parses back to an equal tree.
/// </summary>
/// <remarks>
/// Errors are <see cref="FilterSyntaxException"/> with the 0-based position and what was expected. Every
/// <see cref="FilterLimits"/> bound is checked while parsing (text length first), and recursion is bounded by
/// <see cref="FilterLimits.MaxDepth"/>, so hostile text costs bounded time, memory and stack. Thread-safe (stateless).
/// </remarks>
public static class FilterParser
{
    /// <summary>Parses <paramref name="text"/>; throws <see cref="FilterSyntaxException"/>.</summary>
    public static FilterExpression Parse(string text)
    {
        if (text is null) throw new InvalidArgumentException("the filter text is null");
        if (text.Length > FilterLimits.MaxTextLength)
            throw new FilterSyntaxException(FilterLimits.MaxTextLength, $"the filter is {text.Length} characters long; at most {FilterLimits.MaxTextLength} are accepted");
        return new Parser(text).ParseAll();
    }

    private enum Kind : byte { End, Word, String, Number, Operator, LParen, RParen, Comma }

    private readonly record struct Token(Kind Kind, int Start, int Length, string? Text = null, ComparisonOperator Op = 0);

    private sealed class Parser(string text)
    {
        private readonly List<Token> _tokens = [];
        private int _next;
        private int _lexPos;
        private int _nodes;

        public FilterExpression ParseAll()
        {
            if (Peek().Kind == Kind.End) throw Error(Peek().Start, "the filter is empty: expected an expression such as kind == 'doc'");
            var (expr, _) = ParseOr(0);
            var t = Peek();
            if (t.Kind != Kind.End)
                throw Error(t.Start, $"expected 'and', 'or' or the end of the filter, found {Describe(t)}");
            return expr;
        }

        // ---- grammar -------------------------------------------------------------------------------------------

        private (FilterExpression Expr, int Depth) ParseOr(int nesting)
        {
            int start = Peek().Start;
            var first = ParseAnd(nesting);
            if (!IsWord(Peek(), "or")) return first;
            return Connective(start, first, "or", ParseAnd, nesting);
        }

        private (FilterExpression Expr, int Depth) ParseAnd(int nesting)
        {
            int start = Peek().Start;
            var first = ParseUnary(nesting);
            if (!IsWord(Peek(), "and")) return first;
            return Connective(start, first, "and", ParseUnary, nesting);
        }

        private (FilterExpression Expr, int Depth) Connective(int start, (FilterExpression Expr, int Depth) first, string keyword,
            Func<int, (FilterExpression, int)> operand, int nesting)
        {
            var operands = new List<FilterExpression> { first.Expr };
            int depth = first.Depth;
            while (IsWord(Peek(), keyword))
            {
                Take();
                var (e, d) = operand(nesting);
                operands.Add(e);
                depth = Math.Max(depth, d);
            }
            return (Node(start, depth + 1, keyword == "and" ? new AndFilter(operands) : new OrFilter(operands)), depth + 1);
        }

        private (FilterExpression Expr, int Depth) ParseUnary(int nesting)
        {
            var t = Peek();
            if (IsWord(t, "not") && !StartsComparison(1))
            {
                Take();
                RequireNesting(t.Start, nesting + 1);
                var (operand, depth) = ParseUnary(nesting + 1);
                return (Node(t.Start, depth + 1, new NotFilter(operand)), depth + 1);
            }
            return ParsePrimary(nesting);
        }

        private (FilterExpression Expr, int Depth) ParsePrimary(int nesting)
        {
            var t = Peek();
            if (t.Kind == Kind.LParen)
            {
                Take();
                RequireNesting(t.Start, nesting + 1);
                var inner = ParseOr(nesting + 1);
                var close = Peek();
                if (close.Kind != Kind.RParen)
                    throw Error(close.Start, $"expected ')' to close the '(' at position {t.Start}, found {Describe(close)}");
                Take();
                return inner;
            }
            if (t.Kind != Kind.Word)
                throw Error(t.Start, $"expected a field name, 'not', 'exists(' or '(', found {Describe(t)}");
            if (IsWord(t, "exists") && Peek(1).Kind == Kind.LParen)
            {
                Take();
                Take();
                var name = FieldName(Peek(), "inside exists(…)");
                Take();
                var close = Peek();
                if (close.Kind != Kind.RParen) throw Error(close.Start, $"expected ')' after exists({name}, found {Describe(close)}");
                Take();
                return (Node(t.Start, 0, new ExistsFilter(name)), 0);
            }
            var field = FieldName(t, "");
            Take();
            var op = Peek();
            if (op.Kind == Kind.Operator)
            {
                Take();
                var value = Literal($"after '{ComparisonFilter.Symbol(op.Op)}'");
                return (Node(t.Start, 0, new ComparisonFilter(field, op.Op, value)), 0);
            }
            if (IsWord(op, "in")) return (Node(t.Start, 0, InList(field)), 0);
            if (IsWord(op, "contains"))
            {
                Take();
                var tag = Peek();
                if (tag.Kind != Kind.String) throw Error(tag.Start, $"expected a 'quoted' tag after 'contains', found {Describe(tag)}");
                Take();
                if (Encoding.UTF8.GetByteCount(tag.Text!) > FieldValue.MaxStringBytes)
                    throw Error(tag.Start, $"a tag is at most {FieldValue.MaxStringBytes} UTF-8 bytes");
                return (Node(t.Start, 0, new ContainsFilter(field, tag.Text!)), 0);
            }
            throw Error(op.Start, $"expected ==, !=, <, <=, >, >=, 'in' or 'contains' after field '{field}', found {Describe(op)}");
        }

        private InFilter InList(string field)
        {
            Take();
            var open = Peek();
            if (open.Kind != Kind.LParen) throw Error(open.Start, $"expected '(' after 'in', found {Describe(open)}");
            Take();
            var values = new List<FieldValue>();
            while (true)
            {
                if (values.Count == FilterLimits.MaxInValues)
                    throw Error(Peek().Start, $"an 'in' list holds at most {FilterLimits.MaxInValues} values");
                values.Add(Literal(values.Count == 0 ? "in the 'in' list" : "after ','"));
                var sep = Peek();
                Take();
                if (sep.Kind == Kind.RParen) break;
                if (sep.Kind != Kind.Comma)
                    throw Error(sep.Start, $"expected ',' or ')' in the 'in' list opened at position {open.Start}, found {Describe(sep)}");
            }
            return new InFilter(field, values);
        }

        private FieldValue Literal(string where)
        {
            var t = Peek();
            switch (t.Kind)
            {
                case Kind.String:
                    Take();
                    if (Encoding.UTF8.GetByteCount(t.Text!) > FieldValue.MaxStringBytes)
                        throw Error(t.Start, $"a string literal is at most {FieldValue.MaxStringBytes} UTF-8 bytes");
                    return FieldValue.Keyword(t.Text!);
                case Kind.Number:
                    Take();
                    return Number(t);
                case Kind.Word when IsWord(t, "true"):
                    Take();
                    return FieldValue.Bool(true);
                case Kind.Word when IsWord(t, "false"):
                    Take();
                    return FieldValue.Bool(false);
                case Kind.Word when IsWord(t, "timestamp") && Peek(1).Kind == Kind.LParen:
                {
                    Take();
                    Take();
                    var s = Peek();
                    if (s.Kind != Kind.String) throw Error(s.Start, $"expected a 'quoted' ISO 8601 instant inside timestamp(…), found {Describe(s)}");
                    Take();
                    FieldValue value;
                    try
                    {
                        value = FieldValue.ParseTimestamp(s.Text!);
                    }
                    catch (InvalidArgumentException e)
                    {
                        throw Error(s.Start, e.Message);
                    }
                    var close = Peek();
                    if (close.Kind != Kind.RParen) throw Error(close.Start, $"expected ')' after the timestamp, found {Describe(close)}");
                    Take();
                    return value;
                }
                default:
                    throw Error(t.Start, $"expected a value {where} ('string', number, true, false or timestamp('…')), found {Describe(t)}");
            }
        }

        private FieldValue Number(Token t)
        {
            var span = text.AsSpan(t.Start, t.Length);
            if (span.IndexOfAny('.', 'e', 'E') < 0)
            {
                if (long.TryParse(span, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v)) return FieldValue.Int(v);
                throw Error(t.Start, $"integer {Shorten(span.ToString())} is outside the int64 range (write a decimal point for a double)");
            }
            if (double.TryParse(span, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d))
                return FieldValue.Double(d);
            throw Error(t.Start, $"number {Shorten(span.ToString())} is outside the range of a double");
        }

        private string FieldName(Token t, string where)
        {
            if (t.Kind != Kind.Word)
                throw Error(t.Start, $"expected a field name{(where.Length > 0 ? " " + where : "")}, found {Describe(t)}");
            var name = text.Substring(t.Start, t.Length);
            if (!FieldDefinition.IsValidName(name))
                throw Error(t.Start, $"'{Shorten(name)}' is not a valid field name: 1..{FieldDefinition.MaxNameLength} letters, digits, '_', '-' or '.', starting with a letter or '_'");
            return name;
        }

        /// <summary>Whether the tokens from <paramref name="k"/> on continue a comparison, making the word before them a field name.</summary>
        private bool StartsComparison(int k)
        {
            var t = Peek(k);
            return t.Kind == Kind.Operator
                || (IsWord(t, "in") && Peek(k + 1).Kind == Kind.LParen)
                || (IsWord(t, "contains") && Peek(k + 1).Kind == Kind.String);
        }

        private static void RequireNesting(int position, int nesting)
        {
            if (nesting > FilterLimits.MaxDepth)
                throw new FilterSyntaxException(position, $"parentheses and 'not' nest deeper than {FilterLimits.MaxDepth} levels");
        }

        private FilterExpression Node(int position, int depth, FilterExpression node)
        {
            if (depth > FilterLimits.MaxDepth)
                throw Error(position, $"the expression nests deeper than {FilterLimits.MaxDepth} levels of and/or/not");
            if (++_nodes > FilterLimits.MaxNodes)
                throw Error(position, $"the filter has more than {FilterLimits.MaxNodes} nodes (comparisons and connectives)");
            return node;
        }

        // ---- tokens --------------------------------------------------------------------------------------------

        private Token Peek(int k = 0)
        {
            while (_tokens.Count <= _next + k)
            {
                if (_tokens.Count > 0 && _tokens[^1].Kind == Kind.End) return _tokens[^1];
                _tokens.Add(Lex());
            }
            return _tokens[_next + k];
        }

        private void Take()
        {
            Peek();
            if (_tokens[_next].Kind != Kind.End) _next++;
        }

        private bool IsWord(Token t, string keyword) =>
            t.Kind == Kind.Word && text.AsSpan(t.Start, t.Length).Equals(keyword, StringComparison.OrdinalIgnoreCase);

        private Token Lex()
        {
            int p = _lexPos;
            while (p < text.Length && char.IsWhiteSpace(text[p])) p++;
            if (p == text.Length)
            {
                _lexPos = p;
                return new Token(Kind.End, p, 0);
            }
            char c = text[p];
            Token token;
            switch (c)
            {
                case '(': token = new Token(Kind.LParen, p, 1); break;
                case ')': token = new Token(Kind.RParen, p, 1); break;
                case ',': token = new Token(Kind.Comma, p, 1); break;
                case '=':
                    token = At(p + 1) == '=' ? new Token(Kind.Operator, p, 2, Op: ComparisonOperator.Equal)
                        : throw Error(p, "expected '==' (a single '=' is not an operator)");
                    break;
                case '!':
                    token = At(p + 1) == '=' ? new Token(Kind.Operator, p, 2, Op: ComparisonOperator.NotEqual)
                        : throw Error(p, "expected '!=' (use 'not' to negate)");
                    break;
                case '<':
                    token = At(p + 1) == '=' ? new Token(Kind.Operator, p, 2, Op: ComparisonOperator.LessOrEqual) : new Token(Kind.Operator, p, 1, Op: ComparisonOperator.Less);
                    break;
                case '>':
                    token = At(p + 1) == '=' ? new Token(Kind.Operator, p, 2, Op: ComparisonOperator.GreaterOrEqual) : new Token(Kind.Operator, p, 1, Op: ComparisonOperator.Greater);
                    break;
                case '\'': token = LexString(p); break;
                default:
                    if (char.IsAsciiDigit(c) || c == '-') token = LexNumber(p);
                    else if (char.IsAsciiLetter(c) || c == '_')
                    {
                        int e = p + 1;
                        while (e < text.Length && (char.IsAsciiLetterOrDigit(text[e]) || text[e] is '_' or '-' or '.')) e++;
                        token = new Token(Kind.Word, p, e - p);
                    }
                    else throw Error(p, $"unexpected character {DescribeChar(c)}");
                    break;
            }
            _lexPos = token.Start + token.Length;
            return token;
        }

        private char At(int i) => i < text.Length ? text[i] : '\0';

        private Token LexString(int start)
        {
            StringBuilder? sb = null;
            int runStart = start + 1;
            int p = runStart;
            while (true)
            {
                int q = text.IndexOf('\'', p);
                if (q < 0) throw Error(start, "unterminated string literal (write '' for a quote inside a string)");
                if (At(q + 1) == '\'')
                {
                    (sb ??= new StringBuilder()).Append(text, runStart, q + 1 - runStart);
                    p = runStart = q + 2;
                    continue;
                }
                string value = sb is null ? text.Substring(runStart, q - runStart) : sb.Append(text, runStart, q - runStart).ToString();
                int bad = FirstLoneSurrogate(value);
                if (bad >= 0) throw Error(start, "the string literal holds an unpaired UTF-16 surrogate");
                return new Token(Kind.String, start, q + 1 - start, value);
            }
        }

        private static int FirstLoneSurrogate(string s)
        {
            for (int i = 0; i < s.Length; i++)
            {
                if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) i++;
                else if (char.IsSurrogate(s[i])) return i;
            }
            return -1;
        }

        private Token LexNumber(int start)
        {
            int p = start;
            if (text[p] == '-') p++;
            if (!char.IsAsciiDigit(At(p))) throw Error(start, "expected a digit after '-'");
            while (char.IsAsciiDigit(At(p))) p++;
            if (At(p) == '.')
            {
                p++;
                if (!char.IsAsciiDigit(At(p))) throw Error(p, "expected a digit after the decimal point");
                while (char.IsAsciiDigit(At(p))) p++;
            }
            if (At(p) is 'e' or 'E')
            {
                p++;
                if (At(p) is '+' or '-') p++;
                if (!char.IsAsciiDigit(At(p))) throw Error(p, "expected a digit in the exponent");
                while (char.IsAsciiDigit(At(p))) p++;
            }
            if (char.IsAsciiLetterOrDigit(At(p)) || At(p) is '_' or '.')
                throw Error(p, $"unexpected {DescribeChar(At(p))} after the number");
            return new Token(Kind.Number, start, p - start);
        }

        // ---- messages ------------------------------------------------------------------------------------------

        private string Describe(Token t) => t.Kind switch
        {
            Kind.End => "the end of the filter",
            Kind.String => $"the string {FieldValue.Quote(Shorten(t.Text!))}",
            Kind.Number => $"the number {Shorten(text.Substring(t.Start, t.Length))}",
            _ => $"'{Shorten(text.Substring(t.Start, t.Length))}'",
        };

        private static string DescribeChar(char c) =>
            char.IsControl(c) || char.IsWhiteSpace(c) || char.IsSurrogate(c) ? $"U+{(int)c:X4}" : $"'{c}'";

        private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "…";

        private static FilterSyntaxException Error(int position, string detail) => new(position, detail);
    }
}
