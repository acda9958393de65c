using Kdump.Engine.Config;

namespace Kdump.Engine.Tests.Config;

/// <summary>Issue 10 items 6 and 9: nothing under a -Root is read or written outside it; dangling links get our own id.</summary>
public class RootLinkTests
{
    private static readonly KdumpConfigTestOptions Options = new() { MemoryBytes = 8UL << 30, Architecture = "x86_64", MakedumpfileProbe = () => null };

    private static IReadOnlyList<KdumpConfigChange> Set(ConfigTree t, KdumpConfigUpdate u) =>
        KdumpConfigEditor.Set(t.Root, u, EngineHost.Null, Options, force: true);

    [Fact]
    public void EtcDefaultLinkedOutOfTheRootIsNeitherReadNorWritten()
    {
        using var outside = new ConfigTree("rhel9");
        using var t = new ConfigTree("rhel9");
        Directory.Delete(t.P("/etc/default"), recursive: true);
        Directory.CreateDirectory(t.P("/var/crash"));
        Directory.CreateSymbolicLink(t.P("/etc/default"), outside.P("/etc/default"));
        var before = outside.Snapshot();
        var inside = t.Snapshot();

        var e = Assert.Throws<KdumpException>(() => Set(t, new KdumpConfigUpdate { CrashKernel = "512M" }));
        Assert.Equal("ConfigLinkOutsideRoot", e.ErrorId);
        Assert.Equal(KdumpErrorKind.PermissionDenied, e.Kind);
        Assert.Equal(t.P("/etc/default"), e.Target);
        Assert.Contains(outside.P("/etc/default"), e.Message);
        Assert.Equal(before.Keys.Order(), outside.Snapshot().Keys.Order());
        foreach (var (k, v) in outside.Snapshot()) Assert.Equal(before[k], v);
        foreach (var (k, v) in t.Snapshot()) Assert.Equal(inside[k], v);

        var r = Assert.Throws<KdumpException>(() => KdumpConfigValidator.Test(t.Root, Options));
        Assert.Equal("ConfigLinkOutsideRoot", r.ErrorId);
        Assert.Equal("ConfigLinkOutsideRoot", Assert.Throws<KdumpException>(() => KdumpConfigReader.Read(t.Root)).ErrorId);
    }

    [Fact]
    public void BlsDirectoryLinkClimbingOutWithDotDotIsRefused()
    {
        using var outside = new ConfigTree("rhel9");
        using var t = new ConfigTree("rhel9");
        Directory.Delete(t.P("/boot/loader/entries"), recursive: true);
        // boot/loader/entries -> ../../../<outside>/boot/loader/entries
        string rel = Path.GetRelativePath(t.P("/boot/loader"), outside.P("/boot/loader/entries"));
        Assert.StartsWith("../../..", rel);
        Directory.CreateSymbolicLink(t.P("/boot/loader/entries"), rel);
        var before = outside.Snapshot();

        var e = Assert.Throws<KdumpException>(() => Set(t, new KdumpConfigUpdate { CrashKernel = "512M" }));
        Assert.Equal("ConfigLinkOutsideRoot", e.ErrorId);
        Assert.Equal(t.P("/boot/loader/entries"), e.Target);
        foreach (var (k, v) in outside.Snapshot()) Assert.Equal(before[k], v);
        Assert.Equal("ConfigLinkOutsideRoot", Assert.Throws<KdumpException>(() => KdumpConfigValidator.Test(t.Root, Options)).ErrorId);
    }

    [Fact]
    public void LinksInsideTheRootStillWorkRelativeOrAbsolute()
    {
        using var t = new ConfigTree("rhel9");
        Directory.CreateDirectory(t.P("/var/crash"));
        Directory.Move(t.P("/boot/loader/entries"), t.P("/boot/real-entries"));
        Directory.CreateSymbolicLink(t.P("/boot/loader/entries"), "../real-entries");
        File.Move(t.P("/etc/default/grub"), t.P("/etc/grub-real"));
        File.CreateSymbolicLink(t.P("/etc/default/grub"), t.P("/etc/grub-real"));   // absolute, but inside the root
        var changes = Set(t, new KdumpConfigUpdate { CrashKernel = "512M" });
        Assert.Equal(4, changes.Count);
        Assert.Contains("crashkernel=512M", File.ReadAllText(t.P("/etc/grub-real")));
        Assert.NotNull(new FileInfo(t.P("/etc/default/grub")).LinkTarget);
        Assert.All(Directory.GetFiles(t.P("/boot/real-entries"), "*.conf").Where(f => !f.Contains("rescue")),
            f => Assert.Contains("crashkernel=512M", File.ReadAllText(f)));
    }

    [Fact]
    public void HookAndFstabLinkedOutOfTheRootAreFindingsNotReads()
    {
        using var outside = new ConfigTree();
        outside.Write("/bin/pre.sh", "#!/bin/sh\n");
        File.SetUnixFileMode(outside.P("/bin/pre.sh"), (UnixFileMode)0b111_101_101);
        outside.Write("/fstab", "LABEL=crash /crash xfs defaults 0 0\n");
        Directory.CreateDirectory(outside.P("/crash/var/crash"));
        using var t = new ConfigTree("rhel9");
        Directory.CreateDirectory(t.P("/usr/local"));
        Directory.CreateSymbolicLink(t.P("/usr/local/bin"), outside.P("/bin"));
        t.Write("/etc/kdump.conf", "kdump_pre /usr/local/bin/pre.sh\nxfs LABEL=crash\npath /var/crash\ncore_collector makedumpfile -l -d 31\n");
        File.CreateSymbolicLink(t.P("/etc/fstab"), outside.P("/fstab"));

        var f = KdumpConfigValidator.Test(t.Root, Options);
        var hook = Assert.Single(f, x => x.RuleId == "ConfigLinkOutsideRoot" && x.Line == 1);
        Assert.Equal(FindingSeverity.Error, hook.Severity);
        Assert.Contains(t.P("/usr/local/bin"), hook.Message);
        var fstab = Assert.Single(f, x => x.RuleId == "ConfigLinkOutsideRoot" && x.Message.Contains(t.P("/etc/fstab")));
        Assert.Equal(FindingSeverity.Error, fstab.Severity);
        Assert.DoesNotContain(f, x => x.RuleId is "HookNotFound" or "HookNotExecutable");
    }

    [Fact]
    public void ADanglingLinkIsNamedNotARawFileNotFound()
    {
        using var t = new ConfigTree("rhel9");
        File.CreateSymbolicLink(t.P("/boot/loader/entries/zz-dangling.conf"), "gone.conf");
        var e = Assert.Throws<KdumpException>(() => KdumpConfigValidator.Test(t.Root, Options));
        Assert.Equal("ConfigLinkDangling", e.ErrorId);
        Assert.Equal(t.P("/boot/loader/entries/zz-dangling.conf"), e.Target);
        Assert.Contains("gone.conf", e.Message);
        Assert.Equal("ConfigLinkDangling", Assert.Throws<KdumpException>(() => KdumpConfigReader.Read(t.Root)).ErrorId);

        using var t2 = new ConfigTree("rhel9");
        File.Delete(t2.P("/etc/kdump.conf"));
        File.CreateSymbolicLink(t2.P("/etc/kdump.conf"), "kdump.conf.rpmsave");
        var e2 = Assert.Throws<KdumpException>(() => Set(t2, new KdumpConfigUpdate { Path = "/x" }));
        Assert.Equal("ConfigLinkDangling", e2.ErrorId);
        Assert.Equal(t2.P("/etc/kdump.conf"), e2.Target);
    }

    [Fact]
    public void ALinkLoopEnds()
    {
        using var t = new ConfigTree("rhel9");
        File.Delete(t.P("/etc/kdump.conf"));
        File.CreateSymbolicLink(t.P("/etc/kdump.conf"), "kdump.conf.b");
        File.CreateSymbolicLink(t.P("/etc/kdump.conf.b"), "kdump.conf");
        Assert.Equal("ConfigLinkLoop", Assert.Throws<KdumpException>(() => KdumpConfigReader.Read(t.Root)).ErrorId);
    }
}
