using System.Text;
using Kdump.Engine.Config;

namespace Kdump.Engine.Tests.Config;

/// <summary>Issue 10 item 9 (RHEL 8 $kernelopts + grubenv) and item 7 (grub default vs BLS disagreeing).</summary>
public class GrubEnvTests
{
    private static readonly KdumpConfigTestOptions Options = new() { MemoryBytes = 8UL << 30, Architecture = "x86_64", MakedumpfileProbe = () => null };

    private const string KernelOpts = "root=/dev/mapper/rhel-root ro crashkernel=auto resume=/dev/mapper/rhel-swap rd.lvm.lv=rhel/root rhgb quiet";

    /// <summary>A RHEL 8 host: BLS entries with "options $kernelopts $tuned_params", kernelopts in a 1024-byte grubenv.</summary>
    private static ConfigTree Rhel8(string? extraOnFirstEntry = null)
    {
        var t = new ConfigTree();
        t.Write("/etc/kdump.conf", "path /var/crash\ncore_collector makedumpfile -l --message-level 7 -d 31\n");
        Directory.CreateDirectory(t.P("/var/crash"));
        t.Write("/etc/default/grub", $"GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX=\"crashkernel=auto resume=/dev/mapper/rhel-swap rd.lvm.lv=rhel/root rhgb quiet\"\nGRUB_ENABLE_BLSCFG=true\n");
        foreach (var v in new[] { "4.18.0-477.10.1.el8_8.x86_64", "4.18.0-513.5.1.el8_9.x86_64" })
            t.Write($"/boot/loader/entries/ffff-{v}.conf",
                $"title Red Hat Enterprise Linux ({v}) 8.9 (Ootpa)\nversion {v}\nlinux /vmlinuz-{v}\ninitrd /initramfs-{v}.img $tuned_initrd\n" +
                $"options $kernelopts $tuned_params{(v.Contains("477") && extraOnFirstEntry is not null ? " " + extraOnFirstEntry : "")}\nid rhel-{v}\ngrub_users $grub_users\ngrub_arg --unrestricted\ngrub_class kernel\n");
        string env = $"# GRUB Environment Block\nsaved_entry=ffff-4.18.0-513.5.1.el8_9.x86_64\nkernelopts={KernelOpts}\nboot_success=0\n";
        Directory.CreateDirectory(t.P("/boot/grub2"));
        File.WriteAllBytes(t.P("/boot/grub2/grubenv"), Encoding.ASCII.GetBytes(env + new string('#', 1024 - env.Length)));
        return t;
    }

    private static Dictionary<string, string> Env(ConfigTree t)
    {
        var bytes = File.ReadAllBytes(t.P("/boot/grub2/grubenv"));
        Assert.Equal(1024, bytes.Length);
        return Encoding.ASCII.GetString(bytes).Split('\n').Where(l => l.Contains('=') && !l.StartsWith('#'))
            .ToDictionary(l => l[..l.IndexOf('=')], l => l[(l.IndexOf('=') + 1)..]);
    }

    [Fact]
    public void BlsEntriesShowTheCrashKernelOfKernelOpts()
    {
        using var t = Rhel8();
        var bls = KdumpConfigReader.Read(t.Root).BootEntries.Where(e => e.Kind == BootEntryKind.BootLoaderSpec).ToList();
        Assert.Equal(2, bls.Count);
        Assert.All(bls, e => Assert.Equal("auto", Assert.Single(e.CrashKernel).Value));
    }

    [Fact]
    public void CrashKernelForAllEntriesEditsKernelOptsKeepingTheBlockSize()
    {
        using var t = Rhel8();
        var entriesBefore = Directory.GetFiles(t.P("/boot/loader/entries")).ToDictionary(f => f, File.ReadAllText);
        var changes = KdumpConfigEditor.Set(t.Root, new KdumpConfigUpdate { CrashKernel = "2G-64G:256M,64G-:512M" }, EngineHost.Null, Options);
        Assert.Contains(changes, c => c.File == t.P("/boot/grub2/grubenv") && c.New!.StartsWith("kernelopts=", StringComparison.Ordinal));
        Assert.Equal(KernelOpts.Replace("crashkernel=auto", "crashkernel=2G-64G:256M,64G-:512M"), Env(t)["kernelopts"]);
        foreach (var (f, text) in entriesBefore) Assert.Equal(text, File.ReadAllText(f));   // still $kernelopts
        var bls = KdumpConfigReader.Read(t.Root).BootEntries.Where(e => e.Kind == BootEntryKind.BootLoaderSpec).ToList();
        Assert.All(bls, e => Assert.Equal("2G-64G:256M,64G-:512M", Assert.Single(e.CrashKernel).Value));
        Assert.DoesNotContain(KdumpConfigValidator.Test(t.Root, Options), f => f.RuleId is "DuplicateCrashKernel" or "CrashKernelMismatch");
        Assert.EndsWith("#", Encoding.ASCII.GetString(File.ReadAllBytes(t.P("/boot/grub2/grubenv"))));
    }

    [Fact]
    public void ACrashKernelBesideKernelOptsIsNotLeftAsASecondValue()
    {
        using var t = Rhel8(extraOnFirstEntry: "crashkernel=128M");
        Assert.Contains(KdumpConfigReader.Read(t.Root).BootEntries, e => e.CrashKernel.Count == 2);
        KdumpConfigEditor.Set(t.Root, new KdumpConfigUpdate { CrashKernel = "512M" }, EngineHost.Null, Options);
        var bls = KdumpConfigReader.Read(t.Root).BootEntries.Where(e => e.Kind == BootEntryKind.BootLoaderSpec).ToList();
        Assert.All(bls, e => Assert.Equal("512M", Assert.Single(e.CrashKernel).Value));
    }

    [Fact]
    public void OneKernelGetsItsOwnOptionsAndTheOthersKeepKernelOpts()
    {
        using var t = Rhel8();
        KdumpConfigEditor.Set(t.Root, new KdumpConfigUpdate { CrashKernel = "512M", Kernel = "4.18.0-513*" }, EngineHost.Null, Options);
        Assert.Equal(KernelOpts, Env(t)["kernelopts"]);
        var bls = KdumpConfigReader.Read(t.Root).BootEntries.Where(e => e.Kind == BootEntryKind.BootLoaderSpec).ToDictionary(e => e.Version!);
        Assert.Equal("512M", Assert.Single(bls["4.18.0-513.5.1.el8_9.x86_64"].CrashKernel).Value);
        Assert.Equal("auto", Assert.Single(bls["4.18.0-477.10.1.el8_8.x86_64"].CrashKernel).Value);
        string edited = File.ReadAllText(t.P("/boot/loader/entries/ffff-4.18.0-513.5.1.el8_9.x86_64.conf"));
        Assert.True(edited.Contains("options root=/dev/mapper/rhel-root ro crashkernel=512M resume=/dev/mapper/rhel-swap rd.lvm.lv=rhel/root rhgb quiet $tuned_params\n"), edited);
        Assert.Equal(edited, File.ReadAllText(t.P("/boot/loader/entries/ffff-4.18.0-513.5.1.el8_9.x86_64.conf")));
    }

    [Fact]
    public void KernelOptsWithoutAGrubenvIsRefusedClearly()
    {
        using var t = Rhel8();
        File.Delete(t.P("/boot/grub2/grubenv"));
        var before = t.Snapshot();
        var e = Assert.Throws<KdumpException>(() => KdumpConfigEditor.Set(t.Root, new KdumpConfigUpdate { CrashKernel = "512M" }, EngineHost.Null, Options, force: true));
        Assert.Equal("GrubEnvKernelOptsMissing", e.ErrorId);
        foreach (var (k, v) in t.Snapshot()) Assert.Equal(before[k], v);
    }

    [Fact]
    public void GrubDefaultAndBlsDisagreeingIsReported()
    {
        using var t = new ConfigTree("rhel9");
        Directory.CreateDirectory(t.P("/var/crash"));
        Assert.DoesNotContain(KdumpConfigValidator.Test(t.Root, Options), f => f.RuleId == "CrashKernelMismatch");
        // what an interrupted change leaves: the grub default already has the new value, one BLS entry not
        string grub = t.P("/etc/default/grub");
        File.WriteAllText(grub, File.ReadAllText(grub).Replace("crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M", "crashkernel=512M"));
        var f = KdumpConfigValidator.Test(t.Root, Options).Where(x => x.RuleId == "CrashKernelMismatch").ToList();
        Assert.Equal(2, f.Count);   // the two non-rescue entries
        Assert.All(f, x => Assert.Equal(FindingSeverity.Warning, x.Severity));
        Assert.All(f, x => Assert.Contains("crashkernel=512M", x.Message));
        Assert.All(f, x => Assert.EndsWith(".conf", x.File));
    }
}
