using Kdump.Engine.Symbols;
using Kdump.Engine.Types;

namespace Kdump.Engine.Tests.Vmlinux;

public class VmlinuxFileTests
{
    [Fact]
    public void IdentityFromNoteAndBanner()
    {
        using var v = VmlinuxFile.Open(SampleVmlinux.Write(SampleVmlinux.Writer()));
        Assert.Equal("6a2b4ac77585b8cf102cba771300e573c8489b69", v.BuildId);
        Assert.Equal("6.1.0-18-amd64", v.Release);
        Assert.StartsWith("Linux version 6.1.0-18-amd64 (debian-kernel@", v.Banner);
        Assert.Equal(SampleVmlinux.BannerAddress, v.BannerAddress);
        Assert.True(v.HasSymbols);
        Assert.True(v.HasDwarf);
        Assert.False(v.HasBtf);
        Assert.Null(v.DebugFilePath);
    }

    [Fact]
    public void BannerIsFoundInRodataWithoutSymbols()
    {
        using var v = VmlinuxFile.Open(SampleVmlinux.Write(SampleVmlinux.Writer(release: "5.14.0-362.el9.x86_64", symbols: false)));
        Assert.Equal("5.14.0-362.el9.x86_64", v.Release);
        Assert.Null(v.BannerAddress);
        Assert.False(v.HasSymbols);
        Assert.Null(v.GetSymbolFinder());
    }

    [Fact]
    public void SymbolsAreShiftedByKaslrExceptPercpuAndAbsolute()
    {
        using var v = VmlinuxFile.Open(SampleVmlinux.Write(SampleVmlinux.Writer()));
        const ulong kaslr = 0x1e000000;
        var s = v.GetSymbolFinder(kaslr)!;
        var start = s.FindByName("start_kernel")!;
        Assert.Equal(SampleVmlinux.Text + 0x40 + kaslr, start.Address);
        Assert.Equal(0x80UL, start.Size);
        Assert.Equal('T', start.Type);
        Assert.Equal('t', s.FindByName("helper")!.Type);
        Assert.Equal('W', s.FindByName("weak_hook")!.Type);
        Assert.Equal('D', s.FindByName("init_task")!.Type);
        Assert.Equal('R', s.FindByName("linux_banner")!.Type);
        Assert.Equal('B', s.FindByName("jiffies_64")!.Type);
        Assert.Equal(0x40UL, s.FindByName("runqueues")!.Address);   // per-CPU offsets do not move
        Assert.Equal(0x1000000UL, s.FindByName("phys_startup_64")!.Address); // absolute
        Assert.Equal('A', s.FindByName("phys_startup_64")!.Type);
        Assert.Null(s.FindByName("undefined_ref"));
        Assert.Null(s.FindByName("main.c"));
        var at = s.FindByAddress(SampleVmlinux.Text + 0x40 + kaslr + 0x10)!.Value;
        Assert.Equal("start_kernel+0x10", at.ToString());
        Assert.Null(s.FindByAddress(SampleVmlinux.Text + 0x40 + 0x10)); // unshifted address is not in the image
        Assert.Same(s, v.GetSymbolFinder(kaslr));
        Assert.Equal(SampleVmlinux.Text + 0x40, v.GetSymbolFinder(0)!.FindByName("start_kernel")!.Address);
    }

    [Fact]
    public void DwarfAndBtfFinders()
    {
        using var v = VmlinuxFile.Open(SampleVmlinux.Write(SampleVmlinux.Writer(btf: true)));
        var dwarf = v.GetDwarfTypeFinder()!;
        Assert.StartsWith("DWARF ", dwarf.Source);
        Assert.Equal(48UL, dwarf.FindType(TypeKind.Struct, "node")!.Size);
        Assert.Same(dwarf, v.GetTypeFinder());
        var btf = v.GetBtfTypeFinder()!;
        Assert.Contains(".BTF", btf.Source);
        var node = Assert.IsType<KStructType>(btf.FindType(TypeKind.Struct, "node"));
        Assert.True(node.TryFindMember("flags", out _, out var off));
        Assert.Equal(32UL, off);
        Assert.True(v.HasBtf);
        Assert.Equal(v.ReadBtf()!.Length, v.BtfMemory.Length);
    }

    [Fact]
    public void BtfOnlyImageUsesBtf()
    {
        using var v = VmlinuxFile.Open(SampleVmlinux.Write(SampleVmlinux.Writer(dwarf: false, btf: true, symbols: false)));
        Assert.False(v.HasDwarf);
        Assert.Null(v.GetDwarfTypeFinder());
        Assert.Contains("BTF", v.GetTypeFinder()!.Source);
    }

    [Fact]
    public void StrippedImageIsRefused()
    {
        var path = SampleVmlinux.Write(SampleVmlinux.Writer(symbols: false, dwarf: false));
        var ex = Assert.Throws<KdumpException>(() => VmlinuxFile.Open(path, debugDirectories: []));
        Assert.Equal("VmlinuxStripped", ex.ErrorId);
        Assert.Contains("linux-image-6.1.0-18-amd64-dbg", ex.Message);
        Assert.Equal(path, ex.Target);
    }

    [Fact]
    public void DebugFileIsFoundByBuildIdBesideStrippedImage()
    {
        var dir = Dwarf.TempFiles.NewDirectory();
        var image = SampleVmlinux.Write(SampleVmlinux.Writer(symbols: false, dwarf: false), dir, "vmlinux-6.1.0-18-amd64");
        // a debug-only file: .rodata is NOBITS, DWARF and symbols present, same build-id
        var debugDir = Path.Combine(dir, "debug");
        var idHex = Convert.ToHexString(SampleVmlinux.DefaultBuildId).ToLowerInvariant();
        Directory.CreateDirectory(Path.Combine(debugDir, ".build-id", idHex[..2]));
        File.WriteAllBytes(Path.Combine(debugDir, ".build-id", idHex[..2], idHex[2..] + ".debug"), SampleVmlinux.Writer(rodataContents: false).Build());
        using var v = VmlinuxFile.Open(image, debugDirectories: [debugDir]);
        Assert.EndsWith(".debug", v.DebugFilePath);
        Assert.True(v.HasDwarf);
        Assert.True(v.HasSymbols);
        Assert.Equal("6.1.0-18-amd64", v.Release); // banner read from the image
        Assert.NotNull(v.GetDwarfTypeFinder()!.FindType(TypeKind.Struct, "node"));
        Assert.NotNull(v.GetSymbolFinder(0)!.FindByName("init_task"));
    }

    [Fact]
    public void DebugFileWithAnotherBuildIdIsRefused()
    {
        var dir = Dwarf.TempFiles.NewDirectory();
        var image = SampleVmlinux.Write(SampleVmlinux.Writer(symbols: false, dwarf: false), dir, "vmlinux");
        var other = SampleVmlinux.Write(SampleVmlinux.Writer(buildId: new byte[20]), dir, "vmlinux.debug");
        var ex = Assert.Throws<KdumpException>(() => VmlinuxFile.Open(image, debugFile: other));
        Assert.Equal("VmlinuxDebugFileMismatch", ex.ErrorId);
        Assert.Equal(KdumpErrorKind.Mismatch, ex.Kind);
    }

    [Fact]
    public void DebugOnlyFileOpensWithoutBanner()
    {
        using var v = VmlinuxFile.Open(SampleVmlinux.Write(SampleVmlinux.Writer(rodataContents: false)));
        Assert.Null(v.Banner);
        Assert.Null(v.Release);
        Assert.NotNull(v.BuildId);
    }

    [Theory]
    [InlineData(new byte[] { 1, 2, 3 }, "VmlinuxInvalid")]
    [InlineData(new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F', 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "VmlinuxFormatUnsupported")]
    public void BadFilesAreRefused(byte[] bytes, string errorId)
    {
        var path = Path.Combine(Dwarf.TempFiles.NewDirectory(), "vmlinux");
        File.WriteAllBytes(path, bytes);
        Assert.Equal(errorId, Assert.Throws<KdumpException>(() => VmlinuxFile.Open(path)).ErrorId);
    }

    [Fact]
    public void MissingFileIsNotFound()
    {
        var ex = Assert.Throws<KdumpException>(() => VmlinuxFile.Open("/nonexistent/vmlinux-x"));
        Assert.Equal("VmlinuxNotFound", ex.ErrorId);
        Assert.Equal(KdumpErrorKind.NotFound, ex.Kind);
    }

    [Fact]
    public void TruncatedSectionTableIsInvalid()
    {
        var bytes = SampleVmlinux.Writer().Build();
        var path = Path.Combine(Dwarf.TempFiles.NewDirectory(), "vmlinux");
        File.WriteAllBytes(path, bytes[..(bytes.Length - 100)]);
        Assert.Equal("VmlinuxInvalid", Assert.Throws<KdumpException>(() => VmlinuxFile.Open(path)).ErrorId);
    }
}

public class VmlinuxLazyTypeFinderTests
{
    [Fact]
    public void LazyFinderDefersTheIndexUntilFirstLookup()
    {
        using var v = VmlinuxFile.Open(SampleVmlinux.Write(SampleVmlinux.Writer()));
        var lazy = v.CreateLazyTypeFinder()!;
        Assert.StartsWith("DWARF ", lazy.Source);
        Assert.Equal(48UL, lazy.FindType(TypeKind.Struct, "node")!.Size);
        Assert.True(lazy.TryFindEnumerator("NODE_BUSY", out var busy));
        Assert.Equal(2, busy);
        Assert.Equal("struct node", lazy.FindVariableType("node_head")!.DisplayName);
    }

    [Fact]
    public void NoTypesNoLazyFinder()
    {
        using var v = VmlinuxFile.Open(SampleVmlinux.Write(SampleVmlinux.Writer(dwarf: false)));
        Assert.Null(v.CreateLazyTypeFinder());
        Assert.Null(v.GetTypeFinder());
    }
}
