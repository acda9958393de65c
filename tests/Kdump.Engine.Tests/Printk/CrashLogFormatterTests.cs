using Kdump.Engine.Linux.Printk;

namespace Kdump.Engine.Tests.Printk;

public class CrashLogFormatterTests
{
    [Theory]
    [InlineData(0UL, "[    0.000000] ")]
    [InlineData(999UL, "[    0.000000] ")]
    [InlineData(1_000UL, "[    0.000001] ")]
    [InlineData(12_345_678_901UL, "[   12.345678] ")]
    [InlineData(99_999_999_999_999UL, "[99999.999999] ")]
    [InlineData(123_456_000_000_000UL, "[123456.000000] ")]
    public void TimestampIsFiveWideSecondsAndMicroseconds(ulong ns, string expected) =>
        Assert.Equal(expected, CrashLogFormatter.FormatTimestamp(ns));

    [Fact]
    public void NewlinesIndentToTheTextColumn() =>
        Assert.Equal("[    1.000000] first\n               second\n               ",
            CrashLogFormatter.Format(1_000_000_000, null, "first\nsecond\n"u8));

    [Fact]
    public void CallerIdWidensTheIndent()
    {
        string s = CrashLogFormatter.Format(0, 42, "a\nb"u8);
        int indent = "[    0.000000] ".Length + CrashLogFormatter.CallerIdWidth + 3;
        Assert.Equal("[    0.000000] [" + "T42".PadLeft(CrashLogFormatter.CallerIdWidth) + "] a\n" + new string(' ', indent) + "b", s);
    }

    [Fact]
    public void NonPrintableBytesAreEscapedAsSignedChars()
    {
        byte[] text = { (byte)'a', 0x00, 0x01, 0x1b, (byte)'\t', (byte)'\r', 0x0b, 0x0c, 0x7f, 0x80, 0xc3, 0xa9, 0xff, (byte)'z' };
        Assert.Equal("[    0.000000] a\\x00\\x01\\x1b\t\r\v\f\\x7f\\xffffff80\\xffffffc3\\xffffffa9\\xffffffffz",
            CrashLogFormatter.Format(0, null, text));
    }

    [Theory]
    [InlineData(5u, "T5")]
    [InlineData(0x80000000u, "C0")]
    [InlineData(0x8000000fu, "C15")]
    [InlineData(4194304u, "T4194304")]
    public void CallerIds(uint raw, string expected) => Assert.Equal(expected, CrashLogFormatter.FormatCallerId(raw));

    [Fact]
    public void LevelFilters()
    {
        Assert.Equal(0b0000_1000, CrashLogLevel.ParseFilter(new[] { "err" }));
        Assert.Equal(0b0000_1111, CrashLogLevel.ParseFilter(new[] { "err+" }));
        Assert.Equal(0b1110_0000, CrashLogLevel.ParseFilter(new[] { "+notice" }));
        Assert.Equal(0b1000_0011, CrashLogLevel.ParseFilter(new[] { "emerg,alert", "7" }));
        Assert.Equal(0b0001_0000, CrashLogLevel.ParseFilter(new[] { "Warning" }));
        var ex = Assert.Throws<KdumpException>(() => CrashLogLevel.ParseFilter(new[] { "loud" }));
        Assert.Equal("LevelInvalid", ex.ErrorId);
        Assert.Throws<KdumpException>(() => CrashLogLevel.ParseFilter(new[] { "+err+" }));
        Assert.Throws<KdumpException>(() => CrashLogLevel.ParseFilter(new[] { "8" }));
    }
}
