using System.Globalization;
using System.Text;

namespace Kdump.Engine.Linux.Printk;

/// <summary>
/// Prints records byte for byte as <c>makedumpfile --dump-dmesg</c> does (which crash's <c>log</c> matches):
/// <c>[%5llu.%06lu] </c> (seconds, microseconds), optionally the caller id in brackets, then the text. A newline in
/// the text starts a new line indented with spaces to the text column; bytes that C's isprint() and isspace() both
/// reject are written as <c>\x%02x</c> of a signed char, so bytes from 0x80 up come out as <c>\xffffffNN</c>.
/// </summary>
public static class CrashLogFormatter
{
    /// <summary>The width makedumpfile right-aligns the caller id to inside its brackets.</summary>
    public const int CallerIdWidth = 8;

    private const uint CallerIsCpu = 0x80000000;

    /// <summary>"T123" for a thread id, "C1" for a CPU number (bit 31 set).</summary>
    public static string FormatCallerId(uint callerId) =>
        ((callerId & CallerIsCpu) != 0 ? "C" : "T") + (callerId & ~CallerIsCpu).ToString(CultureInfo.InvariantCulture);

    /// <summary>"[    0.000000] " for a timestamp in nanoseconds.</summary>
    public static string FormatTimestamp(ulong nanoseconds)
    {
        ulong seconds = nanoseconds / 1_000_000_000UL;
        ulong micros = nanoseconds % 1_000_000_000UL / 1000UL;
        return "[" + seconds.ToString(CultureInfo.InvariantCulture).PadLeft(5) + "." +
               micros.ToString("D6", CultureInfo.InvariantCulture) + "] ";
    }

    /// <summary>The record's printed text without the final newline.</summary>
    public static string Format(ulong timestampNanoseconds, uint? callerId, ReadOnlySpan<byte> text)
    {
        var sb = new StringBuilder(text.Length + 32);
        Append(sb, timestampNanoseconds, callerId, text);
        return sb.ToString();
    }

    /// <summary>Appends the record's printed text (without the final newline) to <paramref name="sb"/>.</summary>
    public static void Append(StringBuilder sb, ulong timestampNanoseconds, uint? callerId, ReadOnlySpan<byte> text)
    {
        int start = sb.Length;
        sb.Append(FormatTimestamp(timestampNanoseconds));
        if (callerId is { } c)
            sb.Append('[').Append(FormatCallerId(c).PadLeft(CallerIdWidth)).Append("] ");
        int indent = sb.Length - start;

        foreach (byte b in text)
        {
            if (b == (byte)'\n')
                sb.Append('\n').Append(' ', indent);
            else if (b is >= 0x20 and <= 0x7e or (>= 0x09 and <= 0x0d))
                sb.Append((char)b);
            else if (b < 0x80)
                sb.Append("\\x").Append(b.ToString("x2", CultureInfo.InvariantCulture));
            else
                sb.Append("\\xffffff").Append(b.ToString("x2", CultureInfo.InvariantCulture));
        }
    }
}
