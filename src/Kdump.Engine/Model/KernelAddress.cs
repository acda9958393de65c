using System.Globalization;

namespace Kdump.Engine;

/// <summary>
/// An address in an output record (task_struct, mm, file, page-table root, physical address ...): unsigned 64-bit,
/// shown as <c>0xffff8cda42d53080</c> in every view, list, CSV and JSON (its <see cref="Hex"/>), and equal to
/// what users type: PowerShell reads <c>0xffff8cda42d53080</c> as a negative Int64, so comparisons accept signed
/// and unsigned integers of the same bits, hex strings and other addresses
/// (<c>Where-Object Task -eq 0xffff8cda42d53080</c> matches). Converts implicitly to and from <see cref="ulong"/>,
/// so engine code keeps computing with ulong.
/// </summary>
public readonly struct KernelAddress : IEquatable<KernelAddress>, IComparable<KernelAddress>, IComparable, IFormattable, IConvertible
{
    private readonly ulong _value;

    public KernelAddress(ulong value) => _value = value;
    /// <summary>The address whose bits a signed literal spells (0xffff… parses as a negative Int64 in PowerShell).</summary>
    public KernelAddress(long value) => _value = unchecked((ulong)value);

    /// <summary>The address as a number.</summary>
    public ulong Value => _value;
    /// <summary>The address as text, 0x and lower-case hex digits (what JSON consumers get).</summary>
    public string Hex => "0x" + _value.ToString("x", CultureInfo.InvariantCulture);

    public static implicit operator ulong(KernelAddress address) => address._value;
    public static implicit operator KernelAddress(ulong value) => new(value);

    public static KernelAddress operator +(KernelAddress a, long offset) => new(unchecked(a._value + (ulong)offset));
    public static KernelAddress operator -(KernelAddress a, long offset) => new(unchecked(a._value - (ulong)offset));
    public static ulong operator -(KernelAddress a, KernelAddress b) => unchecked(a._value - b._value);
    // Arithmetic scripts do on addresses ($a -shr 12, $a -band 0xfff, $a % 4096): the results are numbers.
    public static ulong operator >>(KernelAddress a, int bits) => a._value >> bits;
    public static ulong operator <<(KernelAddress a, int bits) => a._value << bits;
    public static ulong operator &(KernelAddress a, long mask) => a._value & unchecked((ulong)mask);
    public static ulong operator |(KernelAddress a, long bits) => a._value | unchecked((ulong)bits);
    public static ulong operator ^(KernelAddress a, long bits) => a._value ^ unchecked((ulong)bits);
    public static ulong operator *(KernelAddress a, long factor) => unchecked(a._value * (ulong)factor);
    public static ulong operator /(KernelAddress a, long divisor) => a._value / (ulong)divisor;
    public static ulong operator %(KernelAddress a, long divisor) => a._value % (ulong)divisor;

    /// <summary>
    /// Reads an address as crash users write it: hexadecimal with or without 0x (crash prints addresses without
    /// it), or decimal with 0n; '_' and '`' separators are ignored.
    /// </summary>
    public static KernelAddress Parse(string text) => TryParse(text, out var a) ? a
        : throw new FormatException($"'{text}' is not an address: give hexadecimal (ffffffff81000000 or 0xffffffff81000000) or decimal with 0n (0n4096).");

    public static bool TryParse(string? text, out KernelAddress address)
    {
        address = default;
        if (text is null) return false;
        var s = text.Trim().Replace("_", "", StringComparison.Ordinal).Replace("`", "", StringComparison.Ordinal);
        if (s.StartsWith("0n", StringComparison.OrdinalIgnoreCase))
        {
            if (!ulong.TryParse(s.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out var dec)) return false;
            address = dec;
            return true;
        }
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) s = s[2..];
        if (s.Length is 0 or > 16 || !ulong.TryParse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex)) return false;
        address = hex;
        return true;
    }

    /// <summary>The address a value stands for (other addresses, integers of either sign, hex strings), else null.</summary>
    public static KernelAddress? From(object? value) => value switch
    {
        KernelAddress k => k,
        ulong u => u,
        long l => new KernelAddress(l),
        uint ui => ui,
        int i => unchecked((uint)i),            // 0x80000000..0xffffffff parse as negative Int32
        ushort us => us,
        short sh => unchecked((ushort)sh),
        byte b => b,
        sbyte sb => unchecked((byte)sb),
        decimal d when d >= 0 && d <= ulong.MaxValue && decimal.Truncate(d) == d => (ulong)d,
        double dbl when dbl >= 0 && dbl < 18446744073709551616.0 && Math.Truncate(dbl) == dbl => (ulong)dbl,
        System.Numerics.BigInteger bi when bi >= 0 && bi <= ulong.MaxValue => (ulong)bi,
        string s when TryParse(s, out var a) => a,
        _ => null,
    };

    public bool Equals(KernelAddress other) => _value == other._value;
    public override bool Equals(object? obj) => From(obj) is { } a && a._value == _value;
    public override int GetHashCode() => _value.GetHashCode();
    public int CompareTo(KernelAddress other) => _value.CompareTo(other._value);
    public int CompareTo(object? obj) => obj is null ? 1
        : From(obj) is { } a ? _value.CompareTo(a._value)
        : throw new ArgumentException($"'{obj}' is not an address.", nameof(obj));

    public static bool operator ==(KernelAddress a, KernelAddress b) => a._value == b._value;
    public static bool operator !=(KernelAddress a, KernelAddress b) => a._value != b._value;

    /// <summary>0x and hex digits (<see cref="Hex"/>).</summary>
    public override string ToString() => Hex;
    /// <summary>With a numeric format (x16, X, d ...) formats the number; without one, <see cref="Hex"/>.</summary>
    public string ToString(string? format) => ToString(format, CultureInfo.InvariantCulture);
    public string ToString(string? format, IFormatProvider? formatProvider) =>
        string.IsNullOrEmpty(format) ? Hex : _value.ToString(format, formatProvider ?? CultureInfo.InvariantCulture);

    // IConvertible: PowerShell compares `4096 -eq $address` and `-1 -eq $address` by converting the address to the
    // left operand's type; signed targets take the same bits (what a negative Int64 literal spells), narrower ones
    // must fit.
    TypeCode IConvertible.GetTypeCode() => TypeCode.Object;
    bool IConvertible.ToBoolean(IFormatProvider? provider) => _value != 0;
    byte IConvertible.ToByte(IFormatProvider? provider) => checked((byte)_value);
    char IConvertible.ToChar(IFormatProvider? provider) => throw new InvalidCastException("An address is not a character.");
    DateTime IConvertible.ToDateTime(IFormatProvider? provider) => throw new InvalidCastException("An address is not a date.");
    decimal IConvertible.ToDecimal(IFormatProvider? provider) => _value;
    double IConvertible.ToDouble(IFormatProvider? provider) => _value;
    short IConvertible.ToInt16(IFormatProvider? provider) => checked((short)_value);
    int IConvertible.ToInt32(IFormatProvider? provider) => checked((int)_value);
    long IConvertible.ToInt64(IFormatProvider? provider) => unchecked((long)_value);
    sbyte IConvertible.ToSByte(IFormatProvider? provider) => checked((sbyte)_value);
    float IConvertible.ToSingle(IFormatProvider? provider) => _value;
    string IConvertible.ToString(IFormatProvider? provider) => Hex;
    object IConvertible.ToType(Type conversionType, IFormatProvider? provider) =>
        conversionType == typeof(KernelAddress) ? this : Convert.ChangeType(_value, conversionType, provider);
    ushort IConvertible.ToUInt16(IFormatProvider? provider) => checked((ushort)_value);
    uint IConvertible.ToUInt32(IFormatProvider? provider) => checked((uint)_value);
    ulong IConvertible.ToUInt64(IFormatProvider? provider) => _value;
}
