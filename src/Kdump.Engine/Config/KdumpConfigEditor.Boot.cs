namespace Kdump.Engine.Config;

public static partial class KdumpConfigEditor
{
    /// <summary>The crashkernel= tokens for a -CrashKernel value, each validated.</summary>
    internal static List<string> CrashKernelTokens(string value)
    {
        var tokens = new List<string>();
        foreach (string part in value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            var v = CrashKernelParser.Parse(part);
            if (v.Kind == CrashKernelKind.Invalid)
                throw new KdumpException("CrashKernelInvalid", KdumpErrorKind.InvalidArgument, $"crashkernel={v.Value} is not valid: {v.Error}.", part);
            if (v.Kind == CrashKernelKind.Auto)
                throw new KdumpException("CrashKernelInvalid", KdumpErrorKind.InvalidArgument,
                    $"crashkernel=auto is obsolete and not understood by current kernels; give a size or ranges such as '{CrashKernelParser.DefaultRanges(CrashKernelParser.HostArchitecture)}'.", part);
            tokens.Add("crashkernel=" + v.Value);
        }
        if (tokens.Count == 0)
            throw new KdumpException("CrashKernelInvalid", KdumpErrorKind.InvalidArgument, "-CrashKernel is empty.", value);
        if (tokens.Count > 4)
            throw new KdumpException("CrashKernelInvalid", KdumpErrorKind.InvalidArgument, "More than four crashkernel= values.", value);
        return tokens;
    }

    private static void EditCrashKernel(ConfigSnapshot s, string value, string? kernel, EditSession session)
    {
        var tokens = CrashKernelTokens(value);
        var entries = KdumpConfigReader.ReadBootEntries(s);
        int touched = 0;

        var env = GrubEnv.Parse(s.GrubEnvironment);
        bool editEnv = kernel is null && env.TryGetValue("kernelopts", out var ko) && KernelCmdline.CrashKernelValues(ko.Value).Count > 0;
        foreach (var bls in s.BlsEntries)
        {
            if (kernel is not null && !MatchesKernel(entries.First(e => e.File == bls.FullPath), kernel)) continue;
            if (KdumpConfigReader.BlsLines(bls).Any(l => l.Key == "options" && GrubEnv.UsesKernelOpts(l.Value)))
            {
                if (!env.TryGetValue("kernelopts", out var kernelopts))
                    throw new KdumpException("GrubEnvKernelOptsMissing", KdumpErrorKind.NotFound,
                        $"{bls.FullPath} takes its options from $kernelopts, but {s.GrubEnvironment?.FullPath ?? s.Host.Resolve(GrubEnv.Paths[0])} has no kernelopts; nothing was written. Run grub2-mkconfig first.",
                        bls.FullPath);
                if (kernel is null)
                {
                    // every entry changes: the value lives once, in grubenv's kernelopts; none stays on the entry itself
                    editEnv = true;
                    EditBls(bls, [], session, onlyExisting: true);
                }
                else
                {
                    // one entry changes: give it its own command line (as grubby does) so the other entries keep theirs
                    ExpandKernelOpts(bls, kernelopts.RawValue, session);
                    EditBls(bls, tokens, session);
                }
            }
            else EditBls(bls, tokens, session);
            touched++;
        }
        if (editEnv) EditGrubEnvKernelOpts(s.GrubEnvironment!, env["kernelopts"], tokens, session);
        if (s.GrubLegacy is { } legacy)
        {
            var legacyEntries = entries.Where(e => e.Kind == BootEntryKind.GrubLegacy).ToList();
            var lines = KdumpConfigReader.GrubLegacyKernelLines(legacy);
            for (int i = 0; i < lines.Count; i++)
            {
                if (kernel is not null && !MatchesKernel(legacyEntries[i], kernel)) continue;
                string line = legacy.Lines[lines[i].Index];
                string args = line[lines[i].ArgsStart..];
                string edited = KernelCmdline.ReplaceCrashKernel(args, tokens);
                string prefix = line[..lines[i].ArgsStart];
                if (args.Length == 0 && prefix.Length > 0 && !char.IsWhiteSpace(prefix[^1])) prefix += " ";
                session.Set(legacy, lines[i].Index, prefix + edited, "crashkernel");
                touched++;
            }
        }
        if (kernel is null && s.GrubDefault is not null)
        {
            EditGrubDefaults(s, tokens, session);
            touched++;
        }
        if (touched == 0)
            throw kernel is null
                ? new KdumpException("BootConfigNotFound", KdumpErrorKind.NotFound,
                    $"No boot loader configuration under {s.Host.Root} (/etc/default/grub, /boot/loader/entries/*.conf, /boot/grub/grub.conf) to put crashkernel= on.", s.Host.Root)
                : new KdumpException("KernelEntryNotFound", KdumpErrorKind.NotFound,
                    $"No boot entry matches '{kernel}'. Entries: {string.Join(", ", entries.Where(e => e.Kind is BootEntryKind.BootLoaderSpec or BootEntryKind.GrubLegacy).Select(e => e.Name))}.", kernel);
    }

    /// <summary>kernelopts of the GRUB environment block gets the new crashkernel=; the block keeps its size.</summary>
    private static void EditGrubEnvKernelOpts(ConfigText env, GrubEnv.Variable kernelopts, List<string> tokens, EditSession session)
    {
        int size = env.ToBytes().Length;
        session.Set(env, kernelopts.Index, "kernelopts=" + KernelCmdline.ReplaceCrashKernel(kernelopts.RawValue, tokens), "crashkernel");
        GrubEnv.Repad(env, size);
    }

    /// <summary>Replaces the $kernelopts token of an entry's options lines by the given (raw) command line.</summary>
    private static void ExpandKernelOpts(ConfigText t, string rawKernelOpts, EditSession session)
    {
        foreach (var o in KdumpConfigReader.BlsLines(t).Where(l => l.Key == "options" && GrubEnv.UsesKernelOpts(l.Value)))
        {
            string line = t.Lines[o.Index];
            var sb = new System.Text.StringBuilder(line[..o.ValueStart]);
            string value = line[o.ValueStart..];
            foreach (var tok in Enumerable.Reverse(KernelCmdline.Tokenize(value)))
                if (tok.Text is "$kernelopts" or "${kernelopts}")
                    value = value[..tok.Start] + rawKernelOpts + value[(tok.Start + tok.Length)..];
            session.Set(t, o.Index, sb.Append(value).ToString(), "crashkernel");
        }
    }

    private static void EditBls(ConfigText t, List<string> tokens, EditSession session, bool onlyExisting = false)
    {
        var options = KdumpConfigReader.BlsLines(t).Where(l => l.Key == "options").ToList();
        if (onlyExisting && !options.Any(o => KernelCmdline.CrashKernelValues(o.Value).Count > 0)) return;
        if (options.Count == 0)
        {
            session.Insert(t, t.Lines.Count, "options " + string.Join(' ', tokens), "crashkernel");
            return;
        }
        var withCk = options.Where(o => KernelCmdline.CrashKernelValues(o.Value).Count > 0).ToList();
        if (withCk.Count == 0) withCk = [options[^1]];
        for (int i = 0; i < withCk.Count; i++)
        {
            var o = withCk[i];
            string line = t.Lines[o.Index];
            string prefix = line[..o.ValueStart];
            if (o.ValueStart == line.Length && prefix.Length > 0 && !char.IsWhiteSpace(prefix[^1])) prefix += " ";
            session.Set(t, o.Index, prefix + KernelCmdline.ReplaceCrashKernel(line[o.ValueStart..], i == 0 ? tokens : []), "crashkernel");
        }
    }

    /// <summary>
    /// /etc/default/grub and grub.d/*.cfg: every GRUB_CMDLINE_LINUX[_DEFAULT] that has crashkernel= gets the new value;
    /// when none has one, GRUB_CMDLINE_LINUX of /etc/default/grub does (as kdumpctl and grubby do).
    /// </summary>
    private static void EditGrubDefaults(ConfigSnapshot s, List<string> tokens, EditSession session)
    {
        var files = new List<ConfigText> { s.GrubDefault! };
        files.AddRange(s.GrubDropIns);
        var withCk = new List<(ConfigText T, ShellAssignment A)>();
        foreach (var f in files)
            foreach (var a in ConfigParsers.ParseShell(f).Where(a => KdumpConfigReader.GrubCmdlineVars.Contains(a.Name)))
                if (KernelCmdline.CrashKernelValues(a.Value).Count > 0) withCk.Add((f, a));
        if (withCk.Count > 0)
        {
            foreach (var (t, a) in withCk)
                SetShellVarRaw(t, a, KernelCmdline.ReplaceCrashKernel(RawInner(t, a), tokens), session, "crashkernel");
            return;
        }
        var main = s.GrubDefault!;
        var linux = ConfigParsers.ParseShell(main).LastOrDefault(a => a.Name == "GRUB_CMDLINE_LINUX");
        if (linux is not null)
        {
            string inner = RawInner(main, linux);
            SetShellVarRaw(main, linux, KernelCmdline.ReplaceCrashKernel(inner, tokens), session, "crashkernel");
        }
        else session.Insert(main, main.Lines.Count, "GRUB_CMDLINE_LINUX=\"" + string.Join(' ', tokens) + "\"", "crashkernel");
    }
}
