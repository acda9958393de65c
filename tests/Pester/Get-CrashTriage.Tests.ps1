BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
}
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:SamplePath = Join-Path $SamplesDir 'vmcore.kdump'
    if ($HaveSample) { $script:V = Open-Vmcore $SamplePath }
    $script:ModuleManifest = Join-Path $ModulePath 'Kdump.psd1'
}
AfterAll { if ($V) { $V | Close-Vmcore } }

Describe 'Get-CrashTriage' -Skip:(-not $HaveSample) {
    It 'triages the sample: a sysrq-c crash by kdump-panic, with its signature' {
        $t = Get-CrashTriage -Vmcore $V
        $t | Should -BeOfType Kdump.Engine.Model.CrashTriage
        $t.PanicClass | Should -Be 'Sysrq'
        $t.PanicMessage | Should -Be 'Kernel panic - not syncing: sysrq triggered crash'
        $t.PanicTask.Pid | Should -Be 780
        $t.PanicTask.Command | Should -Be 'kdump-panic'
        $t.SignatureFrames[0] | Should -Be 'sysrq_handle_crash'
        $t.Signature | Should -BeLike 'Sysrq: sysrq_handle_crash < __handle_sysrq < *'
        $t.SignatureHash | Should -Match '^[0-9a-f]{16}$'
        $t.TaintText | Should -Be 'Not tainted'
        $t.OnCpu.Count | Should -Be 2
        $t.Findings.Kind | Should -Contain 'Sysrq'
        $t.Vmcore.Id | Should -Be $V.Id
        $t.Vmcore.Path | Should -Be $V.Path
        ($t | Out-String) | Should -Match 'SIGNATURE\s+: [0-9a-f]{16}  Sysrq: sysrq_handle_crash'
    }
    It 'takes dumps from Open-Vmcore through the pipeline and groups them by signature' {
        # two copies: Open-Vmcore hands back the dump already open for a path
        $copies = 1, 2 | ForEach-Object { $p = Join-Path $TestDrive "vmcore-$_.kdump"; Copy-Item $SamplePath $p; $p }
        $g = $copies | Open-Vmcore | Get-CrashTriage | Group-Object SignatureHash
        @($g).Count | Should -Be 1
        $g.Count | Should -Be 2
        $g.Group | ForEach-Object { $_.Vmcore | Close-Vmcore }
    }
    It 'keeps -ErrorLines lines at most' {
        (Get-CrashTriage -Vmcore $V -ErrorLines 1).ErrorLog.Count | Should -BeLessOrEqual 1
    }
    It 'reports a closed piped dump as VmcoreClosed' {
        $p = Join-Path $TestDrive 'closed.kdump'
        Copy-Item $SamplePath $p
        $c = Open-Vmcore $p
        $c | Close-Vmcore
        { $c | Get-CrashTriage } | Should -Throw -ErrorId 'VmcoreClosed,*'
    }
}

Describe 'Compare-CrashDump' -Skip:(-not $HaveSample) {
    It 'finds no difference between two triages of one failure' {
        $a = Get-CrashTriage -Vmcore $V
        Compare-CrashDump $a $V | Should -BeNullOrEmpty
        Compare-CrashDump $a (Get-CrashTriage -Vmcore $V) | Should -BeNullOrEmpty
    }
    It 'lists what differs' {
        $a = Get-CrashTriage -Vmcore $V
        # a made-up second triage: another class and signature
        $b = [Kdump.Engine.Model.CrashTriage]@{ PanicClass = 'OutOfMemory'; SignatureHash = '0123456789abcdef'; Signature = 'OutOfMemory: out_of_memory'; PanicMessage = $a.PanicMessage; Release = $a.Release; Machine = $a.Machine; Cpus = $a.Cpus; TaintText = $a.TaintText }
        $d = Compare-CrashDump $a $b
        $d.Property | Should -Contain 'PanicClass'
        ($d | Where-Object Property -eq PanicClass).Difference | Should -Be 'OutOfMemory'
        $d.Property | Should -Contain 'SignatureHash'
        $d.Property | Should -Not -Contain 'PanicMessage'
    }
    It 'rejects other input as CompareInputInvalid' {
        Compare-CrashDump 'a' 'b' -ErrorAction SilentlyContinue -ErrorVariable e | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -BeLike 'CompareInputInvalid,*'
    }
}

Describe 'Fleet triage' -Skip:(-not $HaveSample) {
    It 'triages dumps in parallel runspaces (ForEach-Object -Parallel) with the same answers' {
        $local = Get-CrashTriage -Vmcore $V
        $r = 1..3 | ForEach-Object { $SamplePath } | ForEach-Object -ThrottleLimit 3 -Parallel {
            Import-Module $using:ModuleManifest
            $v = Open-Vmcore -Path $_
            try { Get-CrashTriage -Vmcore $v | Select-Object PanicClass, SignatureHash, Signature, @{ n = 'Pid'; e = { $_.PanicTask.Pid } } }
            finally { Close-Vmcore -Vmcore $v }
        }
        @($r).Count | Should -Be 3
        $r | ForEach-Object {
            $_.SignatureHash | Should -Be $local.SignatureHash
            $_.PanicClass | Should -Be 'Sysrq'
            $_.Pid | Should -Be 780
        }
    }
    It 'runs in a second local runspace as Invoke-Command would run it on a remote host' {
        $rs = [runspacefactory]::CreateRunspace()
        $rs.Open()
        try {
            $ps = [powershell]::Create()
            $ps.Runspace = $rs
            $null = $ps.AddScript({
                param($Module, $Path)
                Import-Module $Module
                $v = Open-Vmcore -Path $Path
                try { Get-CrashTriage -Vmcore $v | Select-Object PanicClass, SignatureHash } finally { Close-Vmcore -Vmcore $v }
            }).AddArgument($ModuleManifest).AddArgument($SamplePath)
            $out = $ps.Invoke()
            $ps.Streams.Error | Should -BeNullOrEmpty
            $out.SignatureHash | Should -Be (Get-CrashTriage -Vmcore $V).SignatureHash
        }
        finally { $rs.Dispose() }
    }
    It 'comes back through the remoting serializer (an out-of-process job) with its properties' {
        $j = Start-Job -ScriptBlock {
            param($Module, $Path)
            Import-Module $Module
            $v = Open-Vmcore -Path $Path
            try { Get-CrashTriage -Vmcore $v } finally { Close-Vmcore -Vmcore $v }
        } -ArgumentList $ModuleManifest, $SamplePath
        $t = $j | Wait-Job -Timeout 300 | Receive-Job
        $j | Remove-Job -Force
        $t.PSTypeNames[0] | Should -Be 'Deserialized.Kdump.Engine.Model.CrashTriage'
        $t.SignatureHash | Should -Be (Get-CrashTriage -Vmcore $V).SignatureHash
        $t.PanicClass | Should -Be 'Sysrq'
    }
}
