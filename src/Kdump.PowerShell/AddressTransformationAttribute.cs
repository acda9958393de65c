using System.Collections;
using System.Globalization;
using System.Management.Automation;

namespace Kdump.PowerShell;

/// <summary>
/// Lets address parameters take what crash users type. PowerShell parses <c>0xffffffffb001aa40</c> as a negative
/// Int64 and <c>0x80000000</c> as a negative Int32; both are reinterpreted as the unsigned address they spell.
/// Strings are hexadecimal, with or without <c>0x</c> (crash prints addresses without it); <c>0n123</c> is decimal.
/// Works for <c>ulong</c> and <c>ulong[]</c> parameters.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class AddressTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = inputData is PSObject pso ? pso.BaseObject : inputData;
        if (value is string or not IEnumerable) return Convert(value);
        var list = new List<ulong>();
        foreach (var item in (IEnumerable)value) list.Add(Convert(item is PSObject p ? p.BaseObject : item));
        return list.ToArray();
    }

    public static ulong Convert(object? value) => value switch
    {
        null => throw new ArgumentTransformationMetadataException("An address cannot be null."),
        ulong u => u,
        long l => unchecked((ulong)l),
        uint ui => ui,
        int i => unchecked((uint)i),          // 0x80000000..0xffffffff parse as negative Int32
        ushort us => us,
        short s => unchecked((ushort)s),
        byte b => b,
        sbyte sb => unchecked((byte)sb),
        decimal d when d >= 0 && d <= ulong.MaxValue && decimal.Truncate(d) == d => (ulong)d,
        double dbl when dbl >= 0 && dbl <= ulong.MaxValue && Math.Truncate(dbl) == dbl => (ulong)dbl,
        System.Numerics.BigInteger bi when bi >= 0 && bi <= ulong.MaxValue => (ulong)bi,
        string str => ParseString(str),
        _ => throw new ArgumentTransformationMetadataException($"'{value}' ({value.GetType().Name}) is not an address."),
    };

    public static ulong ParseString(string text)
    {
        var s = text.Trim().Replace("_", "").Replace("`", "");
        if (s.StartsWith("0n", StringComparison.OrdinalIgnoreCase) &&
            ulong.TryParse(s.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out var dec))
            return dec;
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) s = s[2..];
        if (s.Length is > 0 and <= 16 && ulong.TryParse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex))
            return hex;
        throw new ArgumentTransformationMetadataException(
            $"'{text}' is not an address: give hexadecimal (ffffffff81000000 or 0xffffffff81000000) or decimal with 0n (0n4096).");
    }
}
