using System.Globalization;
using System.Text;

namespace CouponGrains.Contracts.Analytics;

/// <summary>RFC 4180 CSV: fields with a comma, quote or line break are quoted, quotes doubled; a leading
/// = + - @ is prefixed with a quote so a spreadsheet never runs it as a formula.</summary>
public static class Csv
{
    public static string N(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static void Row(StringBuilder csv, params string[] fields)
    {
        for (var i = 0; i < fields.Length; i++)
        {
            if (i > 0)
            {
                csv.Append(',');
            }

            var field = fields[i];
            if (field.Length > 0 && field[0] is '=' or '+' or '@' && !long.TryParse(field, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
            {
                field = "'" + field;
            }

            if (field.AsSpan().IndexOfAny(",\"\r\n") >= 0)
            {
                csv.Append('"').Append(field.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
            }
            else
            {
                csv.Append(field);
            }
        }

        csv.Append('\n');
    }
}
