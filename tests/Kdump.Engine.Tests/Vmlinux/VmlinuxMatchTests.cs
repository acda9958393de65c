using System.Text;
using Kdump.Engine.Dump;
using Kdump.Engine.Symbols;

namespace Kdump.Engine.Tests.Vmlinux;

public class VmlinuxMatchTests
{
    private const string Id = "6a2b4ac77585b8cf102cba771300e573c8489b69";

    private static VmlinuxFile Open(string release = "6.1.0-18-amd64", byte[]? buildId = null) =>
        VmlinuxFile.Open(SampleVmlinux.Write(SampleVmlinux.Writer(release, buildId)));

    private static (EngineHost Host, List<string> Warnings) Host()
    {
        var w = new List<string>();
        return (new EngineHost { Warning = w.Add }, w);
    }

    [Fact]
    public void MatchingBuildIdAndRelease()
    {
        using var v = Open();
        var info = new VmcoreInfo($"OSRELEASE=6.1.0-18-amd64\nBUILD-ID={Id}\nKERNELOFFSET=1e000000\n", "test");
        var (host, warnings) = Host();
        var r = VmlinuxMatcher.Check(DumpIdentity.FromVmcoreInfo(info), v, force: false, host);
        Assert.True(r.Matches);
        Assert.True(r.Verified);
        Assert.Equal(["build-id", "release"], r.Compared);
        Assert.Empty(warnings);
    }

    [Fact]
    public void BuildIdDifferIsMismatch()
    {
        using var v = Open();
        var info = new VmcoreInfo("OSRELEASE=6.1.0-18-amd64\nBUILD-ID=00112233445566778899aabbccddeeff00112233\n", "test");
        var ex = Assert.Throws<KdumpException>(() => VmlinuxMatcher.Check(DumpIdentity.FromVmcoreInfo(info), v, false));
        Assert.Equal("VmlinuxMismatch", ex.ErrorId);
        Assert.Equal(KdumpErrorKind.Mismatch, ex.Kind);
        Assert.Contains(Id, ex.Message);
        Assert.Contains("00112233445566778899aabbccddeeff00112233", ex.Message);
        Assert.Contains("linux-image-6.1.0-18-amd64-dbg", ex.Message);
        Assert.Contains("-Force", ex.Message);
    }

    [Fact]
    public void ReleaseDifferIsMismatchWithRhelHint()
    {
        using var v = Open("5.14.0-362.el9.x86_64");
        var info = new VmcoreInfo("OSRELEASE=5.14.0-427.el9.x86_64\n", "test");
        var ex = Assert.Throws<KdumpException>(() => VmlinuxMatcher.Check(DumpIdentity.FromVmcoreInfo(info), v, false));
        Assert.Contains("release 5.14.0-362.el9.x86_64 in the vmlinux, 5.14.0-427.el9.x86_64 in the dump", ex.Message);
        Assert.Contains("kernel-debuginfo-5.14.0-427.el9.x86_64", ex.Message);
    }

    [Fact]
    public void ForceTurnsMismatchIntoWarning()
    {
        using var v = Open();
        var info = new VmcoreInfo("OSRELEASE=6.1.0-21-amd64\n", "test");
        var (host, warnings) = Host();
        var r = VmlinuxMatcher.Check(DumpIdentity.FromVmcoreInfo(info), v, force: true, host);
        Assert.False(r.Matches);
        Assert.Contains("6.1.0-21-amd64", r.Mismatch);
        Assert.Single(warnings);
        Assert.Contains("-Force", warnings[0]);
    }

    [Fact]
    public void BannerFromDumpMemoryIsCompared()
    {
        using var v = Open();
        const ulong kaslr = 0x2000000;
        byte[]? Memory(ulong addr, int len, string text)
        {
            Assert.Equal(SampleVmlinux.BannerAddress + kaslr, addr);
            var b = new byte[len];
            Encoding.ASCII.GetBytes(text).AsSpan(0, Math.Min(len, text.Length)).CopyTo(b);
            return b;
        }
        // pre-5.9 kernel: no BUILD-ID; same release but a different build (#2 vs #1)
        var other = SampleVmlinux.BannerOf("6.1.0-18-amd64").Replace("#1 SMP", "#2 SMP");
        var dump = new DumpIdentity { Release = "6.1.0-18-amd64", KernelOffset = kaslr, ReadKernelMemory = (a, l) => Memory(a, l, other) };
        var ex = Assert.Throws<KdumpException>(() => VmlinuxMatcher.Check(dump, v, false));
        Assert.Contains("linux_banner", ex.Message);
        Assert.Contains("#2 SMP", ex.Message);

        var same = new DumpIdentity { Release = "6.1.0-18-amd64", KernelOffset = kaslr, ReadKernelMemory = (a, l) => Memory(a, l, SampleVmlinux.BannerOf("6.1.0-18-amd64")) };
        Assert.Equal(["release", "linux_banner"], VmlinuxMatcher.Check(same, v, false).Compared);

        // a longer banner in the dump is not a prefix match
        var longer = new DumpIdentity { KernelOffset = kaslr, ReadKernelMemory = (a, l) => Memory(a, l, SampleVmlinux.BannerOf("6.1.0-18-amd64") + "extra") };
        Assert.Throws<KdumpException>(() => VmlinuxMatcher.Check(longer, v, false));

        // unreadable memory: the banner is skipped, not an error
        var unreadable = new DumpIdentity { Release = "6.1.0-18-amd64", ReadKernelMemory = (_, _) => throw new KdumpException("PageExcluded", KdumpErrorKind.Unavailable, "excluded") };
        Assert.Equal(["release"], VmlinuxMatcher.Check(unreadable, v, false).Compared);
    }

    [Fact]
    public void NothingComparableWarns()
    {
        using var v = VmlinuxFile.Open(SampleVmlinux.Write(SampleVmlinux.Writer(rodataContents: false)));
        var (host, warnings) = Host();
        var r = VmlinuxMatcher.Check(new DumpIdentity { Release = "6.1.0-18-amd64" }, v, false, host);
        Assert.True(r.Matches);
        Assert.False(r.Verified);
        Assert.Contains("Cannot verify", Assert.Single(warnings));
    }

    [Theory]
    [InlineData("6.1.0-18-amd64", "apt install linux-image-6.1.0-18-amd64-dbg")]
    [InlineData("6.8.0-31-generic", "linux-image-unsigned-6.8.0-31-generic-dbgsym")]
    [InlineData("5.14.0-362.el9.x86_64", "kernel-debuginfo-5.14.0-362.el9.x86_64")]
    [InlineData("6.9.0-custom", "kernel-debuginfo-6.9.0-custom")]
    public void InstallHints(string release, string expected) => Assert.Contains(expected, VmlinuxMatcher.InstallHint(release));
}
