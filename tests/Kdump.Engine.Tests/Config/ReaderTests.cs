using Kdump.Engine.Config;

namespace Kdump.Engine.Tests.Config;

public class ReaderTests
{
    [Fact]
    public void ReadsTheSeedsKdumpConfAndGrubConf()
    {
        using var t = new ConfigTree("rhel6");
        var c = KdumpConfigReader.Read(t.Root);
        Assert.Equal(KdumpConfigFlavor.RedHat, c.Flavor);
        Assert.Equal(t.P("/etc/kdump.conf"), c.ConfigFile);
        Assert.True(c.Target.IsDefault);
        Assert.Equal("/var/crash", c.Path);
        Assert.False(c.PathIsDefault);
        Assert.Equal(DumpCompression.Zlib, c.CoreCollector.Compression);
        Assert.Equal(31, c.CoreCollector.DumpLevel);
        Assert.Equal(1, c.CoreCollector.MessageLevel);
        Assert.Equal("reboot", c.FailureAction);

        var path = Assert.Single(c.Directives, d => d.Name == "path");
        Assert.Equal(21, path.Line);
        Assert.Equal("/var/crash", path.Value);
        Assert.Equal(2, c.Directives.Count);   // commented examples are not directives

        Assert.Equal(2, c.BootEntries.Count);
        var e = c.BootEntries[0];
        Assert.Equal(BootEntryKind.GrubLegacy, e.Kind);
        Assert.Equal("Red Hat Enterprise Linux Server (2.6.32-431.5.1.el6.x86_64)", e.Name);
        Assert.Equal("/vmlinuz-2.6.32-431.5.1.el6.x86_64", e.Kernel);
        Assert.Equal("2.6.32-431.5.1.el6.x86_64", e.Version);
        Assert.Equal(16, e.Line);
        Assert.Equal(CrashKernelKind.Auto, Assert.Single(e.CrashKernel).Kind);
    }

    [Fact]
    public void ReadsBlsEntriesAndGrubDefaults()
    {
        using var t = new ConfigTree("rhel9");
        var c = KdumpConfigReader.Read(t.Root);
        Assert.Equal(DumpCompression.Lzo, c.CoreCollector.Compression);
        Assert.Equal(7, c.CoreCollector.MessageLevel);
        var bls = c.BootEntries.Where(b => b.Kind == BootEntryKind.BootLoaderSpec).ToList();
        Assert.Equal(3, bls.Count);
        var cur = Assert.Single(bls, b => b.Version == "5.14.0-362.8.1.el9_3.x86_64");
        Assert.Equal(5, cur.Line);
        Assert.Equal("/vmlinuz-5.14.0-362.8.1.el9_3.x86_64", cur.Kernel);
        var ck = Assert.Single(cur.CrashKernel);
        Assert.Equal(CrashKernelKind.Ranges, ck.Kind);
        Assert.Equal(256UL << 20, ck.SizeFor(16UL << 30));
        Assert.Empty(bls.Single(b => b.Name.EndsWith("rescue")).CrashKernel);
        var grub = Assert.Single(c.BootEntries, b => b.Kind == BootEntryKind.GrubDefault);
        Assert.Equal("GRUB_CMDLINE_LINUX", grub.Name);
        Assert.Equal(6, grub.Line);
        Assert.Single(grub.CrashKernel);
        Assert.Equal("1G-4G:192M,4G-64G:256M,64G-:512M", c.CrashKernel);
    }

    [Fact]
    public void ReadsDebiansShippedFiles()
    {
        using var t = new ConfigTree("debian");
        var c = KdumpConfigReader.Read(t.Root);
        Assert.Equal(KdumpConfigFlavor.Debian, c.Flavor);
        Assert.True(c.Enabled);
        Assert.Equal("/var/crash", c.Path);
        Assert.True(c.CoreCollector.IsDefault);                  // MAKEDUMP_ARGS is commented out
        Assert.Equal(DumpCompression.Zlib, c.CoreCollector.Compression);
        Assert.Equal(31, c.CoreCollector.DumpLevel);
        Assert.True(c.Target.IsDefault);
        var use = Assert.Single(c.Directives, d => d.Name == "USE_KDUMP");
        Assert.Equal("1", use.Value);
        Assert.Equal(7, use.Line);
        Assert.Equal("/var/lib/kdump/vmlinuz", c.Directives.Single(d => d.Name == "KDUMP_KERNEL").Value);

        var dropIn = Assert.Single(c.BootEntries, b => b.Kind == BootEntryKind.GrubDefaultDropIn);
        Assert.Equal("GRUB_CMDLINE_LINUX_DEFAULT", dropIn.Name);
        var ck = Assert.Single(dropIn.CrashKernel);
        Assert.Equal("384M-:128M", ck.Value);
        Assert.Equal(128UL << 20, ck.SizeFor(1UL << 30));
        Assert.Equal(2, c.BootEntries.Count(b => b.Kind == BootEntryKind.GrubDefault));
    }

    [Fact]
    public void ReadsTargetsCommentsAndDebianRemoteTargets()
    {
        using var t = new ConfigTree();
        t.Write("/etc/kdump.conf", "ssh kdump@backup.example.com   # remote\nsshkey /root/.ssh/kdump_id_rsa\ncore_collector makedumpfile -F -l -d 31\n");
        var c = KdumpConfigReader.Read(t.Root);
        Assert.Equal("ssh", c.Target.Type);
        Assert.Equal("kdump@backup.example.com", c.Target.Location);
        Assert.True(c.CoreCollector.Flattened);
        Assert.Equal("remote", c.Directives[0].Comment);

        using var d = new ConfigTree();
        d.Write("/etc/default/kdump-tools", "USE_KDUMP=0\nNFS=\"nas:/export/crash\"\nMAKEDUMP_ARGS='-z -d 17'\n");
        var dc = KdumpConfigReader.Read(d.Root);
        Assert.False(dc.Enabled);
        Assert.Equal("nfs", dc.Target.Type);
        Assert.Equal("nas:/export/crash", dc.Target.Location);
        Assert.Equal(DumpCompression.Zstd, dc.CoreCollector.Compression);
        Assert.Equal(DumpLevelExclusion.Zero | DumpLevelExclusion.Free, dc.CoreCollector.ExcludedPages);
    }

    [Fact]
    public void ReadsSuseSysconfig()
    {
        using var t = new ConfigTree();
        t.Write("/etc/sysconfig/kdump", "KDUMP_SAVEDIR=\"ssh://root@dumphost/var/crash\"\nKDUMP_DUMPLEVEL=\"31\"\nKDUMP_DUMPFORMAT=\"lzo\"\n");
        var c = KdumpConfigReader.Read(t.Root);
        Assert.Equal(KdumpConfigFlavor.Suse, c.Flavor);
        Assert.Equal("ssh", c.Target.Type);
        Assert.Equal("root@dumphost", c.Target.Location);
        Assert.Equal("/var/crash", c.Path);
        Assert.Equal(DumpCompression.Lzo, c.CoreCollector.Compression);
    }

    [Fact]
    public void DracutMountCountsAsTarget()
    {
        using var t = new ConfigTree();
        t.Write("/etc/kdump.conf", "dracut_args --mount \"/dev/sdb1 /kdumproot xfs defaults\"\n");
        var c = KdumpConfigReader.Read(t.Root);
        Assert.Equal("mount", c.Target.Type);
        Assert.Equal("/dev/sdb1", c.Target.Location);
    }

    [Fact]
    public void OversizedFilesAreRefused()
    {
        using var t = new ConfigTree();
        t.Write("/etc/kdump.conf", new string('#', (1 << 20) + 1));
        var e = Assert.Throws<KdumpException>(() => KdumpConfigReader.Read(t.Root));
        Assert.Equal("ConfigFileTooLarge", e.ErrorId);
    }

    [Fact]
    public void MissingRootIsANotFoundError()
    {
        var e = Assert.Throws<KdumpException>(() => KdumpConfigReader.Read("/nonexistent/kdump-root"));
        Assert.Equal("RootNotFound", e.ErrorId);
    }
}
