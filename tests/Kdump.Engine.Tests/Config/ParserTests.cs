using Kdump.Engine.Config;

namespace Kdump.Engine.Tests.Config;

public class CrashKernelParserTests
{
    private const ulong M = 1UL << 20, G = 1UL << 30;

    [Theory]
    [InlineData("128M", 128 * M, null)]
    [InlineData("crashkernel=256M", 256 * M, null)]
    [InlineData("256M@16M", 256 * M, 16 * M)]
    [InlineData("0x10000000", 256 * M, null)]
    [InlineData("1G", G, null)]
    public void ParsesPlainSizes(string text, ulong size, ulong? offset)
    {
        var v = CrashKernelParser.Parse(text);
        Assert.Equal(CrashKernelKind.Size, v.Kind);
        Assert.Equal(size, v.Size);
        Assert.Equal(offset, v.Offset);
        Assert.Equal(CrashKernelModifier.None, v.Modifier);
    }

    [Theory]
    [InlineData("512M,high", CrashKernelModifier.High)]
    [InlineData("128M,low", CrashKernelModifier.Low)]
    [InlineData("0M,low", CrashKernelModifier.Low)]
    [InlineData("1G,cma", CrashKernelModifier.Cma)]
    public void ParsesSuffixes(string text, CrashKernelModifier modifier)
    {
        var v = CrashKernelParser.Parse(text);
        Assert.Equal(CrashKernelKind.Size, v.Kind);
        Assert.Equal(modifier, v.Modifier);
    }

    [Fact]
    public void ParsesRangesWithOffsetAndPicksTheRangeForRam()
    {
        var v = CrashKernelParser.Parse("1G-4G:192M,4G-64G:256M,64G-:512M@16M");
        Assert.Equal(CrashKernelKind.Ranges, v.Kind);
        Assert.Equal(3, v.Ranges.Count);
        Assert.Equal(16 * M, v.Offset);
        Assert.Equal(G, v.Ranges[0].Start);
        Assert.Equal(4 * G, v.Ranges[0].End);
        Assert.Null(v.Ranges[2].End);
        Assert.Equal(0UL, v.SizeFor(512 * M));            // below the first range
        Assert.Equal(192 * M, v.SizeFor(2 * G));
        Assert.Equal(256 * M, v.SizeFor(4 * G));          // end is exclusive
        Assert.Equal(512 * M, v.SizeFor(1024 * G));
    }

    [Fact]
    public void AutoIsItsOwnKind() => Assert.Equal(CrashKernelKind.Auto, CrashKernelParser.Parse("auto").Kind);

    [Theory]
    [InlineData("")]
    [InlineData("big")]
    [InlineData("128Q")]
    [InlineData("4G-1G:128M")]
    [InlineData("1G-:128M,2G-4G:256M")]
    [InlineData("1G-2G")]
    [InlineData("512M,middle")]
    [InlineData("512M@16M,high")]
    [InlineData("0")]
    [InlineData("99999999999999999999G")]
    [InlineData("20000000000000000E")]
    public void RejectsMalformedValues(string text)
    {
        var v = CrashKernelParser.Parse(text);
        Assert.Equal(CrashKernelKind.Invalid, v.Kind);
        Assert.False(string.IsNullOrEmpty(v.Error));
    }

    [Theory]
    [InlineData(1UL << 30, "x86_64", 128UL << 20)]     // under 2 GB: 128M (the seed's advice)
    [InlineData(4UL << 30, "x86_64", 256UL << 20)]
    [InlineData(64UL << 30, "x86_64", 512UL << 20)]
    [InlineData(8UL << 30, "aarch64", 320UL << 20)]
    public void RecommendsKdumpctlSizes(ulong ram, string arch, ulong expected) =>
        Assert.Equal(expected, CrashKernelParser.Recommended(ram, arch));

    [Theory]
    [InlineData("ro quiet", "ro quiet crashkernel=256M")]
    [InlineData("", "crashkernel=256M")]
    [InlineData("ro crashkernel=auto quiet", "ro crashkernel=256M quiet")]
    [InlineData("crashkernel=1G,high ro crashkernel=128M,low", "crashkernel=256M ro")]
    [InlineData("ro crashkernel=256M", "ro crashkernel=256M")]
    public void ReplacesCrashKernelTokensInPlace(string before, string after) =>
        Assert.Equal(after, KernelCmdline.ReplaceCrashKernel(before, ["crashkernel=256M"]));
}

public class MakedumpfileOptionsTests
{
    [Fact]
    public void DecodesTheSeedsCollector()
    {
        var c = MakedumpfileOptions.Decode("makedumpfile -c --message-level 1 -d 31");
        Assert.True(c.IsMakedumpfile);
        Assert.Equal(DumpCompression.Zlib, c.Compression);
        Assert.Equal(31, c.DumpLevel);
        Assert.Equal(1, c.MessageLevel);
        Assert.False(c.Flattened);
        Assert.Equal(DumpLevelExclusion.Zero | DumpLevelExclusion.NonPrivateCache | DumpLevelExclusion.PrivateCache
                     | DumpLevelExclusion.UserData | DumpLevelExclusion.Free, c.ExcludedPages);
    }

    [Theory]
    [InlineData("makedumpfile -l -d 1", DumpCompression.Lzo, 1, false)]
    [InlineData("makedumpfile -F -p -d 17", DumpCompression.Snappy, 17, true)]
    [InlineData("makedumpfile -zFd 8", DumpCompression.Zstd, 8, true)]
    [InlineData("/usr/sbin/makedumpfile -d31", DumpCompression.None, 31, false)]
    [InlineData("makedumpfile --dump-level=2 -c", DumpCompression.Zlib, 2, false)]
    public void DecodesOptionForms(string cmd, DumpCompression comp, int level, bool flat)
    {
        var c = MakedumpfileOptions.Decode(cmd);
        Assert.Equal(comp, c.Compression);
        Assert.Equal(level, c.DumpLevel);
        Assert.Equal(flat, c.Flattened);
    }

    [Fact]
    public void DumpLevelBitsNameThePageClasses()
    {
        Assert.Equal(DumpLevelExclusion.Zero | DumpLevelExclusion.Free, MakedumpfileOptions.Exclusions(17));
        Assert.Equal(DumpLevelExclusion.UserData, MakedumpfileOptions.Exclusions(8));
    }

    [Fact]
    public void OtherCollectorsAreNotDecoded()
    {
        var c = MakedumpfileOptions.Decode("cp --sparse=always");
        Assert.False(c.IsMakedumpfile);
        Assert.Equal("cp", c.Program);
        Assert.Null(c.DumpLevel);
    }

    [Theory]
    [InlineData("makedumpfile -c --message-level 1 -d 31", DumpCompression.Zstd, "makedumpfile -z --message-level 1 -d 31")]
    [InlineData("makedumpfile -c --message-level 1 -d 31", DumpCompression.None, "makedumpfile --message-level 1 -d 31")]
    [InlineData("makedumpfile --message-level 1 -d 31", DumpCompression.Lzo, "makedumpfile -l --message-level 1 -d 31")]
    [InlineData("makedumpfile -Fc -d 31", DumpCompression.Snappy, "makedumpfile -Fp -d 31")]
    [InlineData("makedumpfile -c -l -d 31", DumpCompression.Lzo, "makedumpfile -l -d 31")]
    public void SetsCompressionInPlace(string before, DumpCompression c, string after) =>
        Assert.Equal(after, MakedumpfileOptions.WithCompression(before, c));

    [Theory]
    [InlineData("makedumpfile -c --message-level 1 -d 31", "makedumpfile -c --message-level 1 -d 17")]
    [InlineData("makedumpfile -c -d31", "makedumpfile -c -d17")]
    [InlineData("makedumpfile -c", "makedumpfile -c -d 17")]
    [InlineData("makedumpfile --message-level 31 -c", "makedumpfile --message-level 31 -c -d 17")]
    public void SetsDumpLevelInPlace(string before, string after) =>
        Assert.Equal(after, MakedumpfileOptions.WithDumpLevel(before, 17));

    [Fact]
    public void ParsesMakedumpfileVersionOutput()
    {
        var caps = MakedumpfileCapabilities.Parse("makedumpfile: version 1.7.2 (released on 20 Oct 2022)\nlzo\tenabled\nsnappy\tdisabled\nzstd\tdisabled\n\n");
        Assert.NotNull(caps);
        Assert.Equal("1.7.2", caps!.Version);
        Assert.True(caps.Supports(DumpCompression.Lzo));
        Assert.False(caps.Supports(DumpCompression.Snappy));
        Assert.False(caps.Supports(DumpCompression.Zstd));
        Assert.True(caps.Supports(DumpCompression.Zlib));
        Assert.Null(MakedumpfileCapabilities.Parse("bash: makedumpfile: command not found"));
    }
}
