namespace CouponGrains.Contracts;

/// <summary>
/// An amount of money as an integer count of minor units (paise, cents) in one ISO 4217 currency.
/// There is no floating point anywhere on the money path; every operation is checked.
/// </summary>
[GenerateSerializer, Alias("money"), Immutable]
public readonly record struct Money([property: Id(0)] long Minor, [property: Id(1)] string Currency)
{
    public static Money Zero(string currency) => new(0, currency);

    public Money Add(Money other) => new(checked(Minor + Same(other).Minor), Currency);

    public Money Subtract(Money other) => new(checked(Minor - Same(other).Minor), Currency);

    public bool IsNegative => Minor < 0;

    private Money Same(Money other) =>
        string.Equals(Currency, other.Currency, StringComparison.Ordinal)
            ? other
            : throw new InvalidOperationException($"Cannot combine {Currency} with {other.Currency}.");

    public override string ToString() => $"{Minor} {Currency} (minor units)";
}

/// <summary>The ISO 4217 currencies the product accepts, with their minor-unit exponent.</summary>
public static class Currencies
{
    private static readonly Dictionary<string, int> s_exponents = new(StringComparer.Ordinal)
    {
        ["INR"] = 2, ["USD"] = 2, ["EUR"] = 2, ["GBP"] = 2, ["JPY"] = 0, ["CNY"] = 2, ["AUD"] = 2,
        ["CAD"] = 2, ["CHF"] = 2, ["SEK"] = 2, ["NOK"] = 2, ["DKK"] = 2, ["PLN"] = 2, ["CZK"] = 2,
        ["HUF"] = 2, ["RON"] = 2, ["TRY"] = 2, ["ZAR"] = 2, ["BRL"] = 2, ["MXN"] = 2, ["ARS"] = 2,
        ["CLP"] = 0, ["COP"] = 2, ["PEN"] = 2, ["AED"] = 2, ["SAR"] = 2, ["QAR"] = 2, ["KWD"] = 3,
        ["BHD"] = 3, ["OMR"] = 3, ["EGP"] = 2, ["NGN"] = 2, ["KES"] = 2, ["SGD"] = 2, ["MYR"] = 2,
        ["THB"] = 2, ["IDR"] = 2, ["PHP"] = 2, ["VND"] = 0, ["KRW"] = 0, ["TWD"] = 2, ["HKD"] = 2,
        ["NZD"] = 2, ["PKR"] = 2, ["BDT"] = 2, ["LKR"] = 2, ["NPR"] = 2, ["ILS"] = 2, ["UAH"] = 2,
    };

    public static bool IsKnown(string? code) => code is not null && s_exponents.ContainsKey(code);

    public static int MinorUnitExponent(string code) => s_exponents[code];
}
