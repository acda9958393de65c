using Kdump.Engine.Config;

namespace Kdump.Engine.Tests.Config;

public class ValidatorTests
{
    private const ulong G = 1UL << 30;
    private static readonly MakedumpfileCapabilities LzoOnly = new() { Version = "1.7.2", Lzo = true };

    /// <summary>A healthy RHEL-style root: /var/crash exists, one BLS entry with the kdumpctl default crashkernel.</summary>
    private static ConfigTree Healthy(string kdumpConf, string crashkernel = "2G-64G:256M,64G-:512M")
    {
        var t = new ConfigTree();
        t.Write("/etc/kdump.conf", kdumpConf);
        Directory.CreateDirectory(t.P("/var/crash"));
        t.Write("/boot/loader/entries/abc-6.8.0.conf", $"title Linux\nversion 6.8.0\nlinux /vmlinuz-6.8.0\noptions root=/dev/sda2 ro crashkernel={crashkernel}\n");
        return t;
    }

    private static List<KdumpConfigFinding> Test(ConfigTree t, ulong ram = 8 * G, MakedumpfileCapabilities? caps = null, string arch = "x86_64") =>
        KdumpConfigValidator.Test(t.Root, new KdumpConfigTestOptions { MemoryBytes = ram, Architecture = arch, MakedumpfileProbe = () => caps ?? LzoOnly }).ToList();

    [Fact]
    public void AHealthyConfigurationHasNoErrorsOrWarnings()
    {
        using var t = Healthy("path /var/crash\ncore_collector makedumpfile -l --message-level 7 -d 31\nfailure_action shell\n");
        var f = Test(t);
        Assert.DoesNotContain(f, x => x.Severity != FindingSeverity.Information);
        Assert.Contains(f, x => x.RuleId == "NoDumpTarget");
    }

    [Theory]
    [InlineData("net my.server.com:/export/tmp\n", "DeprecatedDirective", FindingSeverity.Error, 1)]
    [InlineData("path /var/crash\nlink_delay 60\n", "DeprecatedDirective", FindingSeverity.Error, 2)]
    [InlineData("options e1000 debug=1\n", "DeprecatedDirective", FindingSeverity.Error, 1)]
    [InlineData("disk_timeout 30\n", "DeprecatedDirective", FindingSeverity.Error, 1)]
    [InlineData("debug_mem_level 0\n", "DeprecatedDirective", FindingSeverity.Error, 1)]
    [InlineData("blacklist nouveau\n", "DeprecatedDirective", FindingSeverity.Error, 1)]
    [InlineData("pathh /var/crash\n", "UnknownDirective", FindingSeverity.Error, 1)]
    [InlineData("path\n", "MissingValue", FindingSeverity.Error, 1)]
    [InlineData("default shell\n", "ObsoleteDirective", FindingSeverity.Warning, 1)]
    [InlineData("path /var/crash\npath /var/crash\n", "DuplicateDirective", FindingSeverity.Error, 2)]
    [InlineData("failure_action shell\ndefault reboot\n", "DuplicateDirective", FindingSeverity.Error, 2)]
    [InlineData("ext4 /dev/sda3\nnfs nas:/export\n", "MultipleTargets", FindingSeverity.Error, 2)]
    [InlineData("xfs UUID=1234\ndracut_args --mount \"/dev/sdb /mnt xfs defaults\"\n", "MultipleTargets", FindingSeverity.Error, 2)]
    [InlineData("force_rebuild 1\nforce_no_rebuild 1\n", "ConflictingRebuildOptions", FindingSeverity.Error, 1)]
    [InlineData("failure_action explode\n", "InvalidValue", FindingSeverity.Error, 1)]
    [InlineData("final_action shell\n", "InvalidValue", FindingSeverity.Error, 1)]
    [InlineData("force_rebuild yes\n", "InvalidValue", FindingSeverity.Error, 1)]
    [InlineData("auto_reset_crashkernel 1\n", "InvalidValue", FindingSeverity.Error, 1)]
    [InlineData("path var/crash\n", "InvalidValue", FindingSeverity.Error, 1)]
    [InlineData("nfs nas.example.com\n", "InvalidValue", FindingSeverity.Error, 1)]
    [InlineData("sshkey /root/.ssh/kdump_id_rsa\n", "SshKeyWithoutSshTarget", FindingSeverity.Warning, 1)]
    [InlineData("kdump_post /var/crash/scripts/post.sh\n", "HookNotFound", FindingSeverity.Error, 1)]
    [InlineData("ssh kdump@host\ncore_collector makedumpfile -l -d 31\n", "FlattenedFormatRequired", FindingSeverity.Error, 2)]
    [InlineData("raw /dev/sdb1\ncore_collector makedumpfile -c -d 31\n", "FlattenedFormatRequired", FindingSeverity.Error, 2)]
    [InlineData("core_collector makedumpfile -l -d 32\n", "DumpLevelOutOfRange", FindingSeverity.Error, 1)]
    [InlineData("core_collector makedumpfile -l -d -1\n", "DumpLevelOutOfRange", FindingSeverity.Error, 1)]
    [InlineData("core_collector makedumpfile -l\n", "DumpLevelMissing", FindingSeverity.Information, 1)]
    [InlineData("core_collector makedumpfile -l --message-level 40 -d 31\n", "MessageLevelOutOfRange", FindingSeverity.Error, 1)]
    [InlineData("core_collector makedumpfile -c -l -d 31\n", "MultipleCompressionFlags", FindingSeverity.Warning, 1)]
    [InlineData("core_collector makedumpfile -E -c -d 31\n", "ElfCompression", FindingSeverity.Warning, 1)]
    [InlineData("core_collector makedumpfile -z -d 31\n", "CompressionUnsupported", FindingSeverity.Error, 1)]
    [InlineData("core_collector cp --sparse=always\n", "NonMakedumpfileCollector", FindingSeverity.Warning, 1)]
    [InlineData("path /srv/dumps\n", "DumpPathMissing", FindingSeverity.Warning, 1)]
    [InlineData("ext4 LABEL=dumps\n", "DumpPathUnverified", FindingSeverity.Information, 1)]
    [InlineData("ssh kdump@host\n", "SshKeyMissing", FindingSeverity.Warning, 1)]
    public void KdumpConfRules(string conf, string rule, FindingSeverity severity, int line)
    {
        using var t = Healthy(conf);
        var f = Test(t);
        var hit = Assert.Single(f, x => x.RuleId == rule);
        Assert.Equal(severity, hit.Severity);
        Assert.Equal(line, hit.Line);
        Assert.False(string.IsNullOrWhiteSpace(hit.Message));
        if (line > 0) Assert.Equal(t.P("/etc/kdump.conf"), hit.File);
    }

    [Fact]
    public void CompressionIsAcceptedWhenMakedumpfileSupportsItOrCannotBeAsked()
    {
        using var t = Healthy("core_collector makedumpfile -z -d 31\n");
        Assert.DoesNotContain(Test(t, caps: new MakedumpfileCapabilities { Zstd = true }), x => x.RuleId == "CompressionUnsupported");
        var none = KdumpConfigValidator.Test(t.Root, new KdumpConfigTestOptions { MemoryBytes = 8 * G, MakedumpfileProbe = () => null });
        Assert.DoesNotContain(none, x => x.RuleId == "CompressionUnsupported");
    }

    [Fact]
    public void HookNotExecutable()
    {
        using var t = Healthy("kdump_pre /usr/local/bin/pre.sh\n");
        t.Write("/usr/local/bin/pre.sh", "#!/bin/sh\n");
        File.SetUnixFileMode(t.P("/usr/local/bin/pre.sh"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.Single(Test(t), x => x.RuleId == "HookNotExecutable");
        File.SetUnixFileMode(t.P("/usr/local/bin/pre.sh"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Assert.DoesNotContain(Test(t), x => x.RuleId.StartsWith("Hook"));
    }

    [Fact]
    public void FsTargetPathIsCheckedOnItsMountPointFromFstab()
    {
        using var t = Healthy("xfs UUID=0b5b1e4c-2c3d-4e5f-8a9b-0c1d2e3f4a5b\npath /crash\n");
        t.Write("/etc/fstab", "UUID=0B5B1E4C-2C3D-4E5F-8A9B-0C1D2E3F4A5B /srv/kdump xfs defaults 0 0\n");
        var hit = Assert.Single(Test(t), x => x.RuleId == "DumpPathMissing");
        Assert.Contains("/srv/kdump/crash", hit.Message);
        Directory.CreateDirectory(t.P("/srv/kdump/crash"));
        Assert.DoesNotContain(Test(t), x => x.RuleId.StartsWith("DumpPath"));
    }

    [Fact]
    public void SshKeyPresentIsFine()
    {
        using var t = Healthy("ssh kdump@host\nsshkey /root/.ssh/id_kdump\ncore_collector makedumpfile -F -l -d 31\n");
        t.Write("/root/.ssh/id_kdump", "key");
        var f = Test(t);
        Assert.DoesNotContain(f, x => x.RuleId is "SshKeyMissing" or "FlattenedFormatRequired");
    }

    [Theory]
    [InlineData("auto", "CrashKernelAuto", FindingSeverity.Warning)]
    [InlineData("128Q", "CrashKernelSyntax", FindingSeverity.Error)]
    [InlineData("4G-1G:128M", "CrashKernelSyntax", FindingSeverity.Error)]
    [InlineData("128M", "CrashKernelTooSmall", FindingSeverity.Warning)]
    [InlineData("16G-:512M", "CrashKernelNoReservation", FindingSeverity.Warning)]
    [InlineData("4G", "CrashKernelTooLarge", FindingSeverity.Error)]
    [InlineData("256M crashkernel=512M", "DuplicateCrashKernel", FindingSeverity.Warning)]
    public void CrashKernelRules(string value, string rule, FindingSeverity severity)
    {
        using var t = Healthy("path /var/crash\n", value);
        var hit = Assert.Single(Test(t), x => x.RuleId == rule);
        Assert.Equal(severity, hit.Severity);
        Assert.Equal(t.P("/boot/loader/entries/abc-6.8.0.conf"), hit.File);
        Assert.Equal(4, hit.Line);
    }

    [Fact]
    public void SmallMachinesGet128M()
    {
        using var t = Healthy("path /var/crash\n", "128M");
        Assert.DoesNotContain(Test(t, ram: G + (G / 2)), x => x.RuleId.StartsWith("CrashKernel"));
        var hit = Assert.Single(Test(t, ram: 8 * G), x => x.RuleId == "CrashKernelTooSmall");
        Assert.Contains("256M", hit.Message);
    }

    [Fact]
    public void RamComesFromProcMeminfoUnderRoot()
    {
        using var t = Healthy("path /var/crash\n", "128M");
        t.Write("/proc/meminfo", "MemTotal:       16318428 kB\nMemFree:  1 kB\n");
        var f = KdumpConfigValidator.Test(t.Root, new KdumpConfigTestOptions { MakedumpfileProbe = () => LzoOnly, Architecture = "x86_64" });
        Assert.Single(f, x => x.RuleId == "CrashKernelTooSmall");
    }

    [Fact]
    public void CrashKernelMissingEverywhere()
    {
        using var t = new ConfigTree();
        t.Write("/etc/kdump.conf", "path /var/crash\n");
        t.Write("/etc/default/grub", "GRUB_CMDLINE_LINUX=\"quiet\"\n");
        var hit = Assert.Single(Test(t), x => x.RuleId == "CrashKernelMissing");
        // issue 10 item 9: kdump cannot load at all, so Test-KdumpConfig -Quiet must say $false
        Assert.Equal(FindingSeverity.Error, hit.Severity);
        Assert.Contains("2G-64G:256M,64G-:512M", hit.SuggestedFix);
    }

    [Fact]
    public void CrashKernelMissingOnOneBlsEntryButNotOnRescue()
    {
        using var t = new ConfigTree("rhel9");
        Directory.CreateDirectory(t.P("/var/crash"));
        Assert.DoesNotContain(Test(t), x => x.RuleId == "CrashKernelMissing");   // rescue entries are exempt
        t.Write("/boot/loader/entries/" + ConfigTree.BlsId("6.1.0.conf"), "title x\nversion 6.1.0\nlinux /vmlinuz-6.1.0\noptions ro quiet\n");
        var hit = Assert.Single(Test(t), x => x.RuleId == "CrashKernelMissing");
        Assert.Contains("6.1.0", hit.Message);
    }

    [Fact]
    public void BootConfigNotFound()
    {
        using var t = new ConfigTree();
        t.Write("/etc/kdump.conf", "path /var/crash\n");
        Assert.Single(Test(t), x => x.RuleId == "BootConfigNotFound");
    }

    [Fact]
    public void ConfigNotFound()
    {
        using var t = new ConfigTree();
        Assert.Single(Test(t), x => x.RuleId == "ConfigNotFound");
    }

    [Fact]
    public void TheSeedsRhel6SetupWarnsAboutCrashkernelAuto()
    {
        using var t = new ConfigTree("rhel6");
        Directory.CreateDirectory(t.P("/var/crash"));
        var f = Test(t, ram: 4 * G);
        Assert.Equal(2, f.Count(x => x.RuleId == "CrashKernelAuto"));
        Assert.DoesNotContain(f, x => x.Severity == FindingSeverity.Error);
    }

    [Theory]
    [InlineData("USE_KDUMP=0\n", "KdumpDisabled", FindingSeverity.Warning)]
    [InlineData("USE_KDUMP=1\nSSH=\"kdump@host\"\nNFS=\"nas:/export\"\n", "MultipleTargets", FindingSeverity.Error)]
    [InlineData("USE_KDUMP=1\nSSH=\"kdump@host\"\n", "SshKeyDefault", FindingSeverity.Information)]
    [InlineData("USE_KDUMP=1\nSSH=\"kdump@host\"\nSSH_KEY=/root/.ssh/kdump\n", "SshKeyMissing", FindingSeverity.Warning)]
    [InlineData("USE_KDUMP=1\nKDUMP_COMPRESSION=zip\n", "InvalidValue", FindingSeverity.Error)]
    [InlineData("USE_KDUMP=1\nMAKEDUMP_ARGS=\"-c -d 63\"\n", "DumpLevelOutOfRange", FindingSeverity.Error)]
    [InlineData("USE_KDUMP=1\nMAKEDUMP_ARGS=\"-p -d 31\"\n", "CompressionUnsupported", FindingSeverity.Error)]
    [InlineData("USE_KDUMP=1\nKDUMP_COREDIR=/srv/crash\n", "DumpPathMissing", FindingSeverity.Warning)]
    public void KdumpToolsRules(string text, string rule, FindingSeverity severity)
    {
        using var t = new ConfigTree("debian");
        Directory.CreateDirectory(t.P("/var/crash"));
        t.Write("/etc/default/kdump-tools", text);
        var hit = Assert.Single(Test(t), x => x.RuleId == rule);
        Assert.Equal(severity, hit.Severity);
    }

    [Fact]
    public void DebiansShippedConfigurationIsClean()
    {
        using var t = new ConfigTree("debian");
        Directory.CreateDirectory(t.P("/var/crash"));
        var f = Test(t, ram: G);
        Assert.DoesNotContain(f, x => x.Severity == FindingSeverity.Error);
        Assert.DoesNotContain(f, x => x.RuleId.StartsWith("CrashKernel"));
    }
}
